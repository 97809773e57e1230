/**
 * Responses the Service Worker makes up itself when neither path can answer:
 * a short readable page plus a stable code in ERROR_HEADER (what tests and
 * devtools look at).
 */
import { escapeHtml, ERROR_HEADER } from '@wingman/protocol';

export function errorResponse(status: number, code: string, message: string): Response {
  const body = `<!doctype html><meta charset="utf-8"><title>Wingman: ${status}</title>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em">
<h1 style="font-size:1.3em">The shared app could not be reached</h1>
<p>${escapeHtml(message)}</p><p style="color:#666">Code: <code>${escapeHtml(code)}</code> · Wingman</p></body>`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', [ERROR_HEADER]: code },
  });
}
