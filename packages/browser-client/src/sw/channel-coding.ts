/**
 * Compression on the data channel alone: the SW tells the agent it decodes
 * gzip (P2P_ACCEPT_CODING_HEADER), and the agent may then send a text body
 * gzipped, marked P2P_CODING_HEADER, with the rest of the head as the app
 * sent it. Here that coding comes off before anything reads the body (path
 * measurements, resumption, the declared length, the response rules), so
 * the page gets the app's own bytes and head. docs/PROTOCOL.md §Compression
 * on the data channel.
 */
import { P2P_ACCEPT_CODING_HEADER, P2P_CODING_HEADER } from '../shared/constants';
import type { WireHeaders } from '../shared/messages';
import { canDecode } from './build-response';
import type { ShellOutcome } from './shell-fetch';
import { swSwitches, type Switches } from './switches';

/**
 * The request field that offers gzip on the channel, when this browser can
 * decode it and compression is on (the server's P2P_COMPRESSION): without the
 * offer the agent never compresses.
 */
export function channelGzipAccepted(switches: Pick<Switches, 'on'> = swSwitches): [string, string] | undefined {
  return switches.on('compression') && canDecode('gzip') ? [P2P_ACCEPT_CODING_HEADER, 'gzip'] : undefined;
}

type Response = Extract<ShellOutcome, { kind: 'response' }>;

/** The response with the channel's coding removed (unchanged when it has none). An unknown coding fails the body. */
export function channelDecoded(outcome: Response): Response {
  const coding = outcome.headers
    .find(([n]) => n === P2P_CODING_HEADER)?.[1]
    ?.trim()
    .toLowerCase();
  if (coding === undefined) return outcome;
  const headers: WireHeaders = outcome.headers.filter(([n]) => n !== P2P_CODING_HEADER);
  if (coding === 'gzip' && canDecode('gzip')) {
    const body = outcome.body.pipeThrough(new DecompressionStream('gzip') as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
    // The bytes in hand are the channel's, not the app's.
    return { ...outcome, headers, body, whole: () => undefined };
  }
  // Never offered: the agent broke the contract. The body cannot be read as the app's.
  void outcome.body.cancel().catch(() => undefined);
  const body = new ReadableStream<Uint8Array>({ start: (c) => c.error(new TypeError(`unknown channel coding "${coding.slice(0, 40)}"`)) });
  return { ...outcome, headers, body, whole: () => undefined };
}
