/**
 * What a viewer without the link cookie gets (link-access.ts). A navigation gets the bootstrap page, no byte of the app:
 * an inline script derives the access token from the `#k=` key (or the key already in sessionStorage), POSTs it to
 * LINK_PATH, moves the key into sessionStorage (for the shell, never the app's URL) and reloads; without a key, or
 * refused, it says the link is incomplete. Anything else gets that refusal, an upgrade a raw 403.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { escapeHtml, LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, VIA_HEADER } from '@wingman/protocol';
import { isNavigation } from '../http/is-navigation';
import { sendHtml, sendPage, type PageOptions } from '../http/pages';
import { writeRawText } from '../http/raw-response';

const LINK_INCOMPLETE_PAGE: PageOptions = {
  status: 403,
  title: 'This link is incomplete',
  message:
    "The developer shares this app with a link that ends in `#k=…`; the address you opened lacks that part (a copied address bar, a link cut short). Ask the developer for the full link. Scripts can present the link's token in the `X-Wingman-Link-Token` header, or use `wingman fetch` with the full link.",
  code: 'ERR_LINK_INCOMPLETE',
};

/** The shell's sessionStorage item of the link key (browser-client's page/link-key.ts). */
const LINK_KEY_STORAGE_ITEM = 'wingman-link-key';

/** A second bootstrap this soon after the last one in the tab means the browser dropped the cookie: give up rather than loop, ms. */
const RETRY_WINDOW_MS = 3_000;

/**
 * HMAC-SHA-256 in plain JavaScript, for pages without WebCrypto: `crypto.subtle` exists only in secure contexts
 * (https, `*.localhost`), and a server on plain http under a real domain must still open its links. Defines
 * `hmacSha256(key: Uint8Array, msg: Uint8Array): Uint8Array` (FIPS 180-4, RFC 2104; the round constants computed from
 * the primes, as the standard defines them). Checked against node:crypto by a unit test.
 */
export const FALLBACK_HMAC_SOURCE = `const ror = (x, n) => (x >>> n) | (x << (32 - n));
const sha256 = (data) => {
  const K = [], H = [];
  for (let c = 2, n = 0; n < 64; c++) {
    let prime = true;
    for (let d = 2; d * d <= c; d++) if (c % d === 0) { prime = false; break; }
    if (!prime) continue;
    if (n < 8) H[n] = (Math.pow(c, 1 / 2) * 4294967296) | 0;
    K[n++] = (Math.pow(c, 1 / 3) * 4294967296) | 0;
  }
  const blocks = new Uint8Array(((data.length + 72) >> 6) << 6);
  blocks.set(data);
  blocks[data.length] = 0x80;
  const dv = new DataView(blocks.buffer);
  dv.setUint32(blocks.length - 4, data.length * 8);
  const h = H.slice(), w = [];
  for (let off = 0; off < blocks.length; off += 64) {
    for (let i = 0; i < 64; i++) {
      if (i < 16) w[i] = dv.getUint32(off + i * 4) | 0;
      else {
        const a = w[i - 15], b = w[i - 2];
        w[i] = (w[i - 16] + (ror(a, 7) ^ ror(a, 18) ^ (a >>> 3)) + w[i - 7] + (ror(b, 17) ^ ror(b, 19) ^ (b >>> 10))) | 0;
      }
    }
    let [a, b, c, d, e, f, g, k] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    [a, b, c, d, e, f, g, k].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  const out = new DataView(new ArrayBuffer(32));
  h.forEach((v, i) => out.setUint32(i * 4, v >>> 0));
  return new Uint8Array(out.buffer);
};
const hmacSha256 = (key, msg) => {
  const pad = (x) => { const p = new Uint8Array(64 + msg.length); p.set(key); for (let i = 0; i < 64; i++) p[i] ^= x; return p; };
  const inner = pad(0x36); inner.set(msg, 64);
  const outer = new Uint8Array(96); outer.set(pad(0x5c).subarray(0, 64)); outer.set(sha256(inner), 64);
  return sha256(outer);
};`;

const script = `(async () => {
  const say = (t) => { document.getElementById('m').textContent = t; document.getElementById('h').hidden = false; };
  const item = ${JSON.stringify(LINK_KEY_STORAGE_ITEM)};
  const m = /^#k=([A-Za-z0-9_-]{22})(?:&|$)/.exec(location.hash);
  let key = m ? m[1] : null;
  // A tab that opened the link before (its shell moved the key here) and lost the cookie since.
  if (!key) try { key = sessionStorage.getItem(item); } catch {}
  if (!key || !/^[A-Za-z0-9_-]{22}$/.test(key)) return say('The address lacks its #k= part.');
  let last = 0;
  try { last = Number(sessionStorage.getItem('wingman-link-tried')) || 0; sessionStorage.setItem('wingman-link-tried', String(Date.now())); } catch {}
  if (Date.now() - last < ${RETRY_WINDOW_MS}) return say('This browser did not keep the access cookie: allow cookies for this site and open the link again.');
  try {
    const b64 = key.replace(/-/g, '+').replace(/_/g, '/') + '==';
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const label = new TextEncoder().encode(${JSON.stringify(LINK_ACCESS_LABEL)});
    let mac;
    if (window.crypto && crypto.subtle) {
      const hmac = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      mac = new Uint8Array(await crypto.subtle.sign('HMAC', hmac, label));
    } else {
      ${FALLBACK_HMAC_SOURCE}
      mac = hmacSha256(raw, label);
    }
    const token = btoa(String.fromCharCode(...mac)).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
    const r = await fetch(${JSON.stringify(LINK_PATH)}, { method: 'POST', headers: { ${JSON.stringify(LINK_TOKEN_HEADER)}: token }, credentials: 'same-origin', cache: 'no-store' });
    if (r.status !== 204) return say('This link is not (or no longer) valid for this session.');
    if (m) {
      // The key goes where the shell looks for it (page/link-key.ts), out of the URL the app would see.
      try { sessionStorage.setItem(item, key); } catch { return location.reload(); }
      const rest = location.hash.slice(m[0].length);
      history.replaceState(history.state, '', location.pathname + location.search + (rest ? '#' + rest : ''));
    }
    location.reload();
  } catch (e) {
    say('Opening the link failed: ' + e);
  }
})();`;

const scriptHash = `sha256-${createHash('sha256').update(script).digest('base64')}`;

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>Opening the link · Wingman</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}.code{color:#777;font-size:.85rem}</style>
</head><body><h1>Opening the shared app…</h1><p id="m">Checking the link.</p>
<div id="h" hidden><h2>${escapeHtml(LINK_INCOMPLETE_PAGE.title)}</h2><p>Ask the developer for the full link (it ends in <code>#k=…</code>).</p><p class="code">${LINK_INCOMPLETE_PAGE.code}</p></div>
<script>${script}</script></body></html>
`;

/** A browser's document navigation (top-level or a frame), which can run the bootstrap page. */
function isDocumentNavigation(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || req.headers[VIA_HEADER] !== undefined) return false;
  if (req.headers['sec-fetch-dest'] !== undefined) return isNavigation(req.headers, 'document', 'iframe');
  // Browsers without Fetch Metadata: what asks for HTML.
  return String(req.headers.accept ?? '').includes('text/html');
}

export function sendLinkRefusal(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (!isDocumentNavigation(req)) return sendPage(res, LINK_INCOMPLETE_PAGE);
  sendHtml(res, 403, html, {
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; script-src '${scriptHash}'; connect-src 'self'; style-src 'unsafe-inline'`,
  });
}

export function writeLinkRefusal(socket: Duplex): void {
  writeRawText(socket, 403, `${LINK_INCOMPLETE_PAGE.title}: ask the developer for the full link (${LINK_INCOMPLETE_PAGE.code})`);
}
