/**
 * Reads a QR code printed in Unicode half blocks back into text with a real
 * decoder (jsQR), so tests check that what the terminal shows scans, not how
 * it was drawn. Each character is one module wide and two tall: '█' both
 * light, '▀' top light, '▄' bottom light, ' ' both dark.
 */
import jsQR from 'jsqr';

const SCALE_PX = 4;
const QUIET_MODULES = 4;

export function decodePrintedQr(lines: string[]): string | null {
  const rows: boolean[][] = []; // true = light
  for (const line of lines) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      top.push(ch === '█' || ch === '▀');
      bottom.push(ch === '█' || ch === '▄');
    }
    rows.push(top, bottom);
  }
  const modules = Math.max(...rows.map((r) => r.length));
  const size = (modules + 2 * QUIET_MODULES) * SCALE_PX;
  const height = (rows.length + 2 * QUIET_MODULES) * SCALE_PX;
  const rgba = new Uint8ClampedArray(size * height * 4).fill(255);
  rows.forEach((row, y) =>
    row.forEach((light, x) => {
      if (light) return;
      for (let dy = 0; dy < SCALE_PX; dy++) {
        for (let dx = 0; dx < SCALE_PX; dx++) {
          const i = (((y + QUIET_MODULES) * SCALE_PX + dy) * size + (x + QUIET_MODULES) * SCALE_PX + dx) * 4;
          rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
        }
      }
    }),
  );
  return jsQR(rgba, size, height)?.data ?? null;
}

/** The block-character lines of a printed QR code (indentation removed). */
export function qrLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^\s*[█▀▄ ]+$/.test(l) && /[█▀▄]/.test(l))
    .map((l) => l.replace(/^ {4}/, ''));
}
