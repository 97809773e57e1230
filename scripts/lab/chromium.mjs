/**
 * How the lab starts the reviewer's Chromium (reviewer.mjs, bulk-floor/browser.mjs).
 */

/** Flags for a headless reviewer in a closed lab: no Google services, no QUIC, no sandbox (root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
];
/** Chromium starts in ~1-2 s here; 30 s covers a cold cache on a loaded 2-core machine. */
export const LAUNCH_TIMEOUT_MS = 30_000;
