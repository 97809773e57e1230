/**
 * Where the shim's <script> goes in an HTML response, decided on the first bytes only (the body keeps
 * streaming): right after `<head>` it runs before the app's scripts (measured here). Never before the doctype
 * (quirks mode); after a `<meta charset>` that precedes every script, so it stays in the first 1024 bytes the
 * encoding sniffer reads (HTML §13.2.3.2); UTF-16 documents are left alone (an ASCII tag would corrupt them).
 * Works on bytes: tags are ASCII, so a byte-per-char view finds them in any ASCII-compatible encoding.
 */
import { latin1Decode, SHIM_PATH } from '@wingman/protocol';
import { HTML_SNIFF_BYTES } from './constants';

export const SHIM_TAG = `<script src="${SHIM_PATH}"></script>`;

/** `<prefix>=<port>` pairs separated by spaces (APP_ROUTES_HEADER), prefixes as routes allow them: no `"`, `<`, `>` or `%`. */
const ROUTE = String.raw`/[A-Za-z0-9_~!$&'()*+,;=:@./-]{0,256}=\d{1,5}`;
const APP_ROUTES = new RegExp(`^${ROUTE}(?: ${ROUTE}){0,15}$`);

/** The shim's tag, with the nonce the app's CSP admits it by, when it needs one (sw/frame-policy.ts), and the app's port and routes (shim/app-port.ts). */
export function shimTag(nonce?: string, appPort?: string, appRoutes?: string): string {
  const port = /^\d{1,5}$/.test(appPort ?? '') ? ` data-app-port="${appPort}"` : '';
  const routes = APP_ROUTES.test(appRoutes ?? '') ? ` data-app-routes="${appRoutes!.replace(/&/g, '&amp;')}"` : '';
  return `<script${nonce === undefined ? '' : ` nonce="${nonce.replace(/[^A-Za-z0-9+/_=-]/g, '')}"`}${port}${routes} src="${SHIM_PATH}"></script>`;
}

/** Index just past the `>` closing the tag that starts at `start`, or -1 when not yet seen. */
function tagEnd(s: string, start: number): number {
  const i = s.indexOf('>', start);
  return i < 0 ? -1 : i + 1;
}

/** Finds `<name` followed by whitespace, `>` or `/` (so `<head` does not match `<header`). */
function findTag(s: string, name: string, from = 0): number {
  const re = new RegExp(`<${name}[\\s>/]`, 'g');
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? m.index : -1;
}

type InsertionPoint = { kind: 'insert'; offset: number } | { kind: 'skip' } | { kind: 'need-more' };

/** Decides where the shim goes in an HTML body that starts with `prefix`. `complete`: the whole body is in `prefix` (or HTML_SNIFF_BYTES were read). */
export function findShimInsertion(prefix: Uint8Array, complete: boolean): InsertionPoint {
  if ((prefix[0] === 0xfe && prefix[1] === 0xff) || (prefix[0] === 0xff && prefix[1] === 0xfe)) return { kind: 'skip' };
  const final = complete || prefix.length >= HTML_SNIFF_BYTES;
  // Byte per char, lower-cased: ASCII tags keep their offsets.
  const s = latin1Decode(prefix).toLowerCase();
  const head = findTag(s, 'head');
  if (head >= 0) {
    const end = tagEnd(s, head);
    if (end < 0) return final ? { kind: 'skip' } : { kind: 'need-more' };
    const meta = /<meta[^>]*charset[^>]*>/g;
    meta.lastIndex = end;
    const m = meta.exec(s);
    const script = findTag(s, 'script', end);
    if (m && (script < 0 || m.index < script) && (findTag(s, 'body', end) < 0 || m.index < findTag(s, 'body', end)))
      return { kind: 'insert', offset: m.index + m[0].length };
    if (!m && !final && script < 0 && s.indexOf('</head', end) < 0) {
      // The head is still arriving; a meta charset may follow. Wait (bounded by HTML_SNIFF_BYTES).
      return { kind: 'need-more' };
    }
    return { kind: 'insert', offset: end };
  }
  const body = findTag(s, 'body');
  const script = findTag(s, 'script');
  if (!final && body < 0 && script < 0) return { kind: 'need-more' };
  // No <head>: after <html …> when it comes first, else after the doctype, else at the start (after a UTF-8 BOM).
  const limit = Math.min(...[body, script].filter((i) => i >= 0), s.length);
  const html = findTag(s, 'html');
  if (html >= 0 && html < limit) {
    const end = tagEnd(s, html);
    if (end > 0) return { kind: 'insert', offset: end };
  }
  const doctype = s.indexOf('<!doctype');
  if (doctype >= 0 && doctype < limit) {
    const end = tagEnd(s, doctype);
    if (end > 0) return { kind: 'insert', offset: end };
  }
  const bom = prefix[0] === 0xef && prefix[1] === 0xbb && prefix[2] === 0xbf ? 3 : 0;
  return { kind: 'insert', offset: bom };
}

export function isHtml(contentType: string | null | undefined): boolean {
  return /^\s*text\/html\s*(;|$)/i.test(contentType ?? '');
}
