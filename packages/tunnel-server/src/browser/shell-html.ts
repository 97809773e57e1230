/**
 * The shell document, served for top-level navigations of P2P sessions at the app's own URL: a full-viewport frame for
 * the app and the client script that owns the peer connection. Its one inline script is browser-client's
 * `dist/shell-inline.js`, read as a file; its CSP hash is computed from that text, so a strict CSP stays possible.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ShellConfig } from '@wingman/protocol';
import { acceptsGzip, defaultBrowserDistDir, fileCache } from './assets';

/** zlib's default level: the shell is made per request (its session's settings), and level 9 gains a few bytes for twice the time. */
const SHELL_GZIP_LEVEL = 6;

interface ShellOptions {
  /** The session id (a DNS label); shown nowhere, passed to the client for logs. */
  sessionId: string;
  /** Whether the session allows P2P (server and agent flags). When false the shell shows the app over the relay only. */
  p2p: boolean;
  /** A private session (`wingman http --private`): the shell loads the app only over a verified channel. Default false. */
  private?: boolean;
}

/** JSON safe inside <script>: no "</script>", no "<!--", no U+2028/2029 surprises (each written as its \u escape). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The inline script's file among the browser bundles. */
export const SHELL_INLINE_SCRIPT_FILE = 'shell-inline.js';

interface ShellInlineScript {
  /** The script's text, as it goes between <script> and </script>. */
  text: string;
  /** Its CSP source: `script-src 'self' '<sha256>'` allows it. */
  sha256: string;
}

const loadInlineScript = fileCache((bytes, path): ShellInlineScript => {
  const text = bytes.toString('utf8').trim();
  if (/<\/script|<!--/i.test(text)) throw new Error(`${path} cannot be inlined: it contains "</script" or "<!--"`);
  return { text, sha256: `sha256-${createHash('sha256').update(text).digest('base64')}` };
});

/**
 * The shell's inline script from the browser bundles' directory, re-read when the file changes (a rebuilt bundle is
 * served without a restart). Throws when it is not built, or when its text could not stay inside a <script> element.
 */
export function shellInlineScript(distDir: string = defaultBrowserDistDir()): ShellInlineScript {
  const script = loadInlineScript(join(distDir, SHELL_INLINE_SCRIPT_FILE));
  if (!script) throw new Error(`Wingman's browser bundle ${SHELL_INLINE_SCRIPT_FILE} is not built: run \`npm run build -w @wingman/browser-client\`.`);
  return script;
}

/** The shell page's HTML. Throws when the inline script is not built (shellInlineScript). */
export function renderShell(options: ShellOptions, script: ShellInlineScript = shellInlineScript()): string {
  const config: ShellConfig = { sessionId: options.sessionId, p2p: options.p2p, exclude: [], badge: true, private: options.private === true };
  return `<!doctype html>
<html lang="en"${config.p2p ? ' data-wingman-p2p' : ''}${config.private ? ' data-wingman-private' : ''}>
<head>
<meta charset="utf-8">
<script>${script.text}</script>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Wingman</title>
<style>html,body{margin:0;height:100%;overflow:hidden;background:#fff}#wingman-frame{position:fixed;inset:0;width:100%;height:100%;border:0;display:block}</style>
<script type="application/json" id="wingman-config">${scriptJson(config)}</script>
</head>
<body>
<noscript>This shared app needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Answers a bootstrap navigation with the shell, never cached (it reflects the session's P2P setting); a 503 when the
 * inline script is not built. Gzipped where accepted (11 KB → 5 KB): on a first visit what is left of TCP's initial
 * window after the TLS handshake does not hold 11 KB, which would wait a round trip.
 */
export function serveShell(req: Pick<IncomingMessage, 'headers'>, res: ServerResponse, options: ShellOptions, distDir?: string): void {
  if (res.headersSent) return;
  let html: string;
  try {
    html = renderShell(options, shellInlineScript(distDir));
  } catch (err) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${(err as Error).message}\n`);
    return;
  }
  const html8 = Buffer.from(html, 'utf8');
  const gzip = acceptsGzip(req.headers['accept-encoding']);
  const body = gzip ? gzipSync(html8, { level: SHELL_GZIP_LEVEL }) : html8;
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'accept-encoding',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
