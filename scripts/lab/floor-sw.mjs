/**
 * The Service Worker floor: the smallest Service Worker that sees every
 * request of the page and answers none of them (each goes on to the
 * network as if there were no worker). What Wingman's worker does with a
 * request it leaves to the browser, with nothing of Wingman around it: no
 * shell, no frame, no channel. The lab registers it on a relay-only
 * session's page after that session's own reloads and reloads again
 * (reviewer.mjs), so a row carries, from the same run, what any Service
 * Worker in a page's path costs a reload (docs/lab-log.md §Reload floors).
 *
 * The shell floor adds what a shell costs: the smallest worker that answers
 * a page's navigation with the smallest shell document, a frame with the
 * app in it (whose own navigation the worker does not answer): the least a
 * shell can cost, with no round trip for its document (Wingman's own shell
 * comes from the tunnel server).
 *
 * Their fetch handlers are not empty: Chromium skips dispatching to a worker
 * whose fetch handler does nothing, which would measure no worker at all.
 */

/** Where the app serves it (the Vite app's public directory: vite-app-source.mjs). */
export const FLOOR_SW_PATH = '/lab-floor-sw.js';

/** Where the app serves the shell floor's worker. */
export const FLOOR_SHELL_SW_PATH = '/lab-floor-shell-sw.js';

const LIFECYCLE = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
`;

/** The worker floor's source: the one request it answers is one no page makes. */
export const FLOOR_SW_SOURCE = `${LIFECYCLE}self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/lab-floor-sw-never') event.respondWith(new Response('never asked'));
});
`;

/** The shell floor's source: a top-level navigation gets a frame of the same URL, which goes to the network. */
export const FLOOR_SHELL_SW_SOURCE = `${LIFECYCLE}const FRAME_PARAM = 'lab-floor-frame';
self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.mode !== 'navigate' || request.destination !== 'document' || url.searchParams.has(FRAME_PARAM)) return;
  url.searchParams.set(FRAME_PARAM, '1');
  // A URL's path and query are percent-encoded: no markup can end the script.
  const src = JSON.stringify(url.pathname + url.search);
  event.respondWith(
    new Response(
      '<!doctype html><meta charset="utf-8"><style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%;display:block}</style>' +
        '<script>const f = document.createElement("iframe"); f.src = ' + src + '; document.documentElement.appendChild(f);</script>',
      { headers: { 'content-type': 'text/html; charset=utf-8' } },
    ),
  );
});
`;

/** Each floor's worker: where the app serves it, its source. */
export const FLOOR_WORKERS = [
  [FLOOR_SW_PATH, FLOOR_SW_SOURCE],
  [FLOOR_SHELL_SW_PATH, FLOOR_SHELL_SW_SOURCE],
];
