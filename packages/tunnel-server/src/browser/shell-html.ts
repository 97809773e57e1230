/**
 * The shell document: a full-viewport same-origin frame for the app and the
 * client script that owns the peer connection. It is served for top-level
 * navigations of P2P sessions (isBootstrapNavigation) at the app's own URL;
 * the client then loads that same URL in the frame. One inline script (its
 * hash is SHELL_INLINE_SCRIPT_SHA256), so a strict CSP on the tunnel
 * server's own pages stays possible.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { BADGE_QUERY_PARAM, CLIENT_PATH } from '@wingman/protocol';

export interface ShellOptions {
  /** The session id (a DNS label); shown nowhere, passed to the client for logs. */
  sessionId: string;
  /** Whether the session allows P2P (server and agent flags). When false the shell shows the app over the relay only. */
  p2p: boolean;
  /** Path prefixes the Service Worker must leave to the relay (developer excludes), e.g. ["/api/upload"]. */
  exclude?: string[];
  /** Show the status badge (the reviewer can still hide it). Default true. */
  badge?: boolean;
}

/** What the client reads from the page (validated again on its side). */
export interface ShellConfig {
  sessionId: string;
  p2p: boolean;
  exclude: string[];
  badge: boolean;
}

const SESSION_ID = /^[a-z0-9-]{1,63}$/;
const MAX_EXCLUDES = 64;

/** Throws a TypeError on options the caller got wrong (a bug on the server side, not viewer input). */
export function shellConfig(options: ShellOptions): ShellConfig {
  if (!SESSION_ID.test(options.sessionId)) throw new TypeError(`renderShell: sessionId must be a DNS label, got ${JSON.stringify(options.sessionId)}`);
  const exclude = options.exclude ?? [];
  if (exclude.length > MAX_EXCLUDES || !exclude.every((p) => typeof p === 'string' && p.startsWith('/') && p.length <= 512)) {
    throw new TypeError(`renderShell: exclude must be at most ${MAX_EXCLUDES} path prefixes starting with "/"`);
  }
  return { sessionId: options.sessionId, p2p: options.p2p === true, exclude, badge: options.badge !== false };
}

/** JSON safe inside <script>: no "</script>", no "<!--", no U+2028/2029 surprises. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Features the app in the frame may use. A same-origin frame already gets
 * most of them by default; listing them keeps apps that need them (camera,
 * clipboard, fullscreen) working as they do at the top level.
 */
const FRAME_ALLOW = 'fullscreen; clipboard-read; clipboard-write; camera; microphone; geolocation; display-capture; autoplay; picture-in-picture; web-share';

/**
 * Creates the app frame from the head, before anything else is parsed, and
 * starts it at once when the SW already controls the shell (its requests
 * then go through the SW; on a first visit client.js starts it once the SW
 * controls, so the app never bypasses the SW's cookie jar). Measured here
 * (bench/, static pages): a frame created by script with its src already set
 * starts its navigation 30–40 ms earlier than a parser-inserted <iframe>
 * whose src a later script sets (that one first loads about:blank). It is
 * appended to <html> because <body> does not exist yet; nothing else is
 * rendered beside it.
 */
const INLINE_SCRIPT = `var f=document.createElement("iframe");f.id="wingman-frame";f.title="app";f.setAttribute("allow",${JSON.stringify(FRAME_ALLOW)});f.allowFullscreen=true;var w=navigator.serviceWorker;if(w&&w.controller){var u=new URL(location.href);u.searchParams.delete(${JSON.stringify(BADGE_QUERY_PARAM)});f.src=u.pathname+u.search+u.hash}document.documentElement.appendChild(f)`;

/** CSP source for the shell's inline script: `script-src 'self' '<this>'`. */
export const SHELL_INLINE_SCRIPT_SHA256 = `sha256-${createHash('sha256').update(INLINE_SCRIPT).digest('base64')}`;

/** The shell page's HTML. */
export function renderShell(options: ShellOptions): string {
  const config = shellConfig(options);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<script>${INLINE_SCRIPT}</script>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wingman</title>
<style>html,body{margin:0;height:100%;overflow:hidden;background:#fff}#wingman-frame{position:fixed;inset:0;width:100%;height:100%;border:0;display:block}</style>
<script type="application/json" id="wingman-config">${scriptJson(config)}</script>
<script src="${CLIENT_PATH}" defer></script>
</head>
<body>
<noscript>This shared app needs JavaScript.</noscript>
</body>
</html>
`;
}

/** Answers a bootstrap navigation with the shell (never cached: it must reflect the session's current P2P setting). */
export function serveShell(res: ServerResponse, options: ShellOptions): void {
  if (res.headersSent) return;
  const body = Buffer.from(renderShell(options), 'utf8');
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
