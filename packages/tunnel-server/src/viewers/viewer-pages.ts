/**
 * What a viewer the gate holds back gets (viewer-gate.ts): a waiting viewer's browser a "waiting for the developer"
 * page that polls VIEWER_STATUS_PATH and reloads itself once admitted; a refused viewer a 403 page. Requests that are
 * not navigations get the same 403 as JSON, upgrades as raw text. The status endpoint answers every viewer of a gated
 * session, whatever its state: it is how the waiting page learns it may come in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { escapeHtml, RESERVED_PREFIX, shortViewerId } from '@wingman/protocol';
import { sendHtml, sendPage } from '../http/pages';
import { sendJson } from '../http/json-response';
import { writeRawText } from '../http/raw-response';
import { isNavigation } from '../http/is-navigation';
import type { ViewerRecord } from '../sessions/session-viewers';

/** A viewer's own state, as JSON (`{ id, state }`), on every session origin with a gate. */
export const VIEWER_STATUS_PATH = `${RESERVED_PREFIX}viewer`;
/** How often the waiting page asks whether it was admitted, ms: quick enough to feel immediate, 1 request per 2 s per waiting tab. */
const WAITING_POLL_INTERVAL_MS = 2_000;

/** Stable codes: held until the developer admits the viewer; refused (or revoked) by the developer. */
const ERR_VIEWER_WAITING = 'ERR_VIEWER_WAITING';
export const ERR_VIEWER_REFUSED = 'ERR_VIEWER_REFUSED';

type Held = { kind: 'waiting' | 'refused'; viewer: ViewerRecord };

const WAITING_MESSAGE = 'The developer who shared this link admits each viewer. This page reloads by itself once you are let in.';
const REFUSED_MESSAGE = 'The developer who shared this link did not let this browser in, or revoked its access.';

/** Navigations and anything asking for HTML get a page; the rest JSON. */
function wantsHtml(req: IncomingMessage): boolean {
  return isNavigation(req.headers) || /\btext\/html\b/.test(String(req.headers.accept ?? ''));
}

function waitingPage(v: ViewerRecord): string {
  const who = `${v.address} · ${v.userAgent || 'no User-Agent'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Waiting to be let in · Wingman</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.who{background:#f2f2f2;padding:.5rem;border-radius:4px;word-break:break-all}.code{color:#777;font-size:.85rem}</style>
</head><body><h1 id="wingman-waiting">Waiting for the developer to let you in…</h1>
<p>${escapeHtml(WAITING_MESSAGE)}</p>
<p>The developer sees this request as:</p><p class="who">${escapeHtml(who)}<br>viewer ${escapeHtml(shortViewerId(v.id))}</p>
<p class="code">${ERR_VIEWER_WAITING} · Wingman · 403</p>
<script>
(function poll() {
  fetch(${JSON.stringify(VIEWER_STATUS_PATH)}, { cache: 'no-store', credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (s) { if (s.state === 'waiting') setTimeout(poll, ${WAITING_POLL_INTERVAL_MS}); else location.reload(); },
          function () { setTimeout(poll, ${WAITING_POLL_INTERVAL_MS}); });
})();
</script></body></html>
`;
}

export function sendHeld(req: IncomingMessage, res: ServerResponse, held: Held, setCookie: string[]): void {
  req.resume();
  if (res.headersSent) return void res.destroy();
  if (setCookie.length > 0) res.setHeader('set-cookie', setCookie);
  const waiting = held.kind === 'waiting';
  if (!wantsHtml(req)) {
    return sendJson(res, 403, {
      error: waiting ? ERR_VIEWER_WAITING : ERR_VIEWER_REFUSED,
      message: waiting ? WAITING_MESSAGE : REFUSED_MESSAGE,
      viewer: held.viewer.id,
      state: held.kind,
    });
  }
  if (!waiting) return sendPage(res, { status: 403, title: 'Access refused', message: REFUSED_MESSAGE, code: ERR_VIEWER_REFUSED });
  sendHtml(res, 403, waitingPage(held.viewer), {
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
  });
}

export function writeHeld(socket: Duplex, held: Held): void {
  const waiting = held.kind === 'waiting';
  writeRawText(socket, 403, waiting ? `Waiting for the developer to let this viewer in (${ERR_VIEWER_WAITING})` : `${REFUSED_MESSAGE} (${ERR_VIEWER_REFUSED})`);
}

export function sendViewerStatus(res: ServerResponse, viewer: ViewerRecord, setCookie: string[]): void {
  if (setCookie.length > 0) res.setHeader('set-cookie', setCookie);
  sendJson(res, 200, { id: viewer.id, state: viewer.state });
}
