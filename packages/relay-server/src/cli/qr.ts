/** The session URL as a QR code under the banner, for a phone (`uqr`, Unicode half blocks, light modules as blocks for light-on-dark terminals). */
import { renderUnicodeCompact } from 'uqr';
import { isLoopbackHost } from '../loopback-host';

/** `--qr` (true), `--no-qr` (false) or neither (undefined: decide from the URL and the terminal). */
export type QrChoice = boolean | undefined;

/**
 * Whether to print the code: forced by the flag, else only on a terminal
 * (never into a file or a pipe) and only for a URL another device can open
 * (a `*.localhost` URL works on this machine alone).
 */
export function shouldPrintQr(choice: QrChoice, url: string, isTTY: boolean): boolean {
  if (choice !== undefined) return choice;
  return isTTY && URL.canParse(url) && !isLoopbackHost(new URL(url).hostname);
}

/** The QR code of `url`, lines indented to sit under the banner's URL. */
export function renderQr(url: string, indent = '    '): string {
  return renderUnicodeCompact(url, { ecc: 'M', border: 2 })
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}
