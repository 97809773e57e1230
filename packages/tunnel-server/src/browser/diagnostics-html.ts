/**
 * The viewer diagnostics page (DIAGNOSTICS_PATH on a session origin): static HTML; its script
 * (DIAGNOSTICS_SCRIPT_PATH) fills it from the open shells and `/__wingman/session`. No inline script, nothing
 * session-specific in the HTML, so it is the same for every session and never cached stale.
 */
import type { ServerResponse } from 'node:http';
import { DIAGNOSTICS_SCRIPT_PATH } from '@wingman/protocol';
import { sendHtml } from '../http/pages';

const ROWS: Array<[field: string, label: string]> = [
  ['session', 'Session'],
  ['viewer', 'You, as the developer sees you'],
  ['transport', 'Transport'],
  ['verified', 'Verified (link key)'],
  ['fingerprints', 'DTLS fingerprints'],
  ['ice', 'ICE pair (types)'],
  ['rtt', 'Round trip'],
  ['loss', 'Packet loss (probe)'],
  ['bytes', 'Channel bytes'],
  ['shells', 'Open app tabs'],
  ['sw', 'Service Worker'],
  ['routes', 'Requests by route (why)'],
  ['ua', 'Browser'],
];

const DIAGNOSTICS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wingman diagnostics</title>
<style>body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:52rem;padding:0 1rem;color:#18181b}dl{display:grid;grid-template-columns:11rem 1fr;gap:.25rem 1rem}dt{color:#52525b}dd{margin:0;word-break:break-word}pre{background:#f4f4f5;padding:1rem;overflow:auto;max-height:24rem;font-size:12px}button{font:inherit;margin-right:.5rem}</style>
<script src="${DIAGNOSTICS_SCRIPT_PATH}" defer></script>
</head>
<body>
<h1>Wingman diagnostics</h1>
<p>How this browser reaches the shared app. Candidate types only, never addresses: copy the report and send it to the developer.</p>
<dl>
${ROWS.map(([f, l]) => `<dt>${l}</dt><dd data-field="${f}">…</dd>`).join('\n')}
</dl>
<h2>Recent errors</h2>
<ul id="errors"><li>…</li></ul>
<p><button type="button" id="copy">Copy report</button><button type="button" id="refresh">Refresh</button><span id="copied" role="status"></span></p>
<pre id="report"></pre>
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
`;

/** Answers GET/HEAD on DIAGNOSTICS_PATH (405 otherwise). */
export function serveDiagnostics(method: string | undefined, res: ServerResponse): void {
  if (res.headersSent) return;
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return;
  }
  const csp = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";
  sendHtml(res, 200, DIAGNOSTICS_HTML, { 'content-security-policy': csp }, method === 'HEAD');
}
