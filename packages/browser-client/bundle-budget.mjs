// The size budget of the shell's inline script (dist/shell-inline.js), which
// the tunnel server inlines into every shell page: its bytes come before the
// app's frame can start and are sent on every navigation. build.mjs fails the
// build when the bundle outgrows it (as libp2p's `bundlesizeMax` does).
// Counted gzipped, as the tunnel server sends the shell page
// (tunnel-server browser/shell-html.ts, level 6): those are the bytes that
// travel in the page's first round trips. Raising it is a decision to make
// in review, with the reason next to the number.
import { gzipSync } from 'node:zlib';

/** The inline bundle's budget, gzipped bytes. */
export const SHELL_INLINE_MAX_GZIP_BYTES = 7_000;

/** The bundle's gzipped size (the tunnel server's level). */
export function gzippedBytes(text) {
  return gzipSync(Buffer.from(text, 'utf8'), { level: 6 }).length;
}

/** Throws when `text` (the bundle `name`) is over `maxGzipBytes` gzipped; returns its gzipped size otherwise. */
export function checkBundleBudget(name, text, maxGzipBytes = SHELL_INLINE_MAX_GZIP_BYTES) {
  const size = gzippedBytes(text);
  if (size > maxGzipBytes) {
    throw new Error(
      `${name} is ${size} bytes gzipped, over its budget of ${maxGzipBytes} (bundle-budget.mjs): keep the inline script small, or raise the budget with the reason`,
    );
  }
  return size;
}
