/**
 * The server's own HTML pages: readable 404 / 502 / 5xx pages on session hosts and the apex landing page.
 * Self-contained (inline CSS, no scripts), served with a CSP that allows nothing else, never cached.
 */
import type { ServerResponse } from 'node:http';
import { escapeHtml, TRANSPORT_HEADER, type ErrorCode, type HttpErrorCode } from '@wingman/protocol';

/** Seconds after which the "agent gone" page reloads itself. Short: agents reconnect within seconds. */
export const RETRY_AFTER_S = 2;

export interface PageOptions {
  status: number;
  title: string;
  /** Plain text; escaped here. */
  message: string;
  /** A stable error code shown in small print: the server's own, or the protocol's for a relayed exchange that failed. */
  code?: HttpErrorCode | ErrorCode;
  /** Reload the page after RETRY_AFTER_S (and send Retry-After). */
  retry?: boolean;
  /** Mark the page as produced on the relay path (X-Wingman-Transport: relay). */
  relayed?: boolean;
  /** One link under the message (an absolute http(s) URL or a path), e.g. "sign in with another account". */
  link?: { href: string; text: string };
}

/** Minimal inline markup: `code` spans written as `…` in messages. */
function renderMessage(message: string): string {
  return escapeHtml(message).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function renderPage(options: PageOptions): string {
  const refresh = options.retry ? `<meta http-equiv="refresh" content="${RETRY_AFTER_S}">` : '';
  const code = options.code ? `<p class="code">${escapeHtml(options.code)}</p>` : '';
  const link = options.link ? `<p><a href="${escapeHtml(options.link.href)}">${escapeHtml(options.link.text)}</a></p>` : '';
  const retry = options.retry ? `<p class="retry">This page retries every ${RETRY_AFTER_S} seconds.</p>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${refresh}
<title>${escapeHtml(options.title)} · Wingman</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f2f2f2;padding:0 .25em;border-radius:3px}.code,.retry{color:#777;font-size:.85rem}</style>
</head><body><h1>${escapeHtml(options.title)}</h1><p>${renderMessage(options.message)}</p>${link}${retry}${code}<p class="code">Wingman · ${options.status}</p></body></html>
`;
}

/** Sends a page unless the response already started (then the connection is cut: a half-sent body cannot become an error page). */
export function sendPage(res: ServerResponse, options: PageOptions): void {
  if (res.headersSent) return void res.destroy();
  sendHtml(res, options.status, renderPage(options), {
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    ...(options.retry ? { 'retry-after': RETRY_AFTER_S } : {}),
    ...(options.relayed ? { [TRANSPORT_HEADER]: 'relay' } : {}),
  });
}

/** Sends one of the server's own HTML documents: sized, never cached, not sniffed; `headers` follow (its CSP among them). */
export function sendHtml(res: ServerResponse, status: number, body: string, headers: Record<string, string | number>, head = false): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': bytes.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(head ? undefined : bytes);
}

/** A 302 to `location`, never cached, with `setCookie` when there is one. */
export function redirect(res: ServerResponse, location: string, setCookie?: string | string[]): void {
  res.writeHead(302, { location, 'cache-control': 'no-store', 'content-length': 0, ...(setCookie?.length ? { 'set-cookie': setCookie } : {}) }).end();
}

export function unknownSessionPage(label: string): PageOptions {
  return {
    status: 404,
    title: 'No such Wingman session',
    message: `No Wingman session ${label} here; check the link or ask the developer to run \`wingman http <port>\`.`,
    code: 'ERR_UNKNOWN_SESSION',
  };
}

/** A session that reached its deadline (`wingman http --expires`): gone for good, so 410 and no retry. */
export function expiredSessionPage(sessionId: string): PageOptions {
  return {
    status: 410,
    title: 'This link has expired',
    message: `Wingman session ${sessionId} was shared for a limited time, and that time is over. Ask the developer for a new link.`,
    code: 'ERR_SESSION_EXPIRED',
  };
}

/**
 * Another node of the cluster forwarded a request for a session this node does not hold (any more): the sender's view
 * of the owner is stale (it remembers owners for a second). Not a 404: the session exists elsewhere.
 */
export function sessionMovingPage(sessionId: string): PageOptions {
  return {
    status: 503,
    title: 'The session is moving',
    message: `Session ${sessionId} is moving between Wingman servers. This page loads the app by itself in a few seconds.`,
    code: 'ERR_SESSION_MOVING',
    retry: true,
  };
}

/** A session whose agent stopped and did not come back within the grace period: the developer stopped sharing (sessions/session-model.ts). */
export function stoppedSharingPage(sessionId: string): PageOptions {
  return {
    status: 503,
    title: 'The developer stopped sharing',
    message: `Wingman session ${sessionId} is not being shared right now: the developer stopped \`wingman http\`. The link works again when they start sharing again (it keeps its address), and this page loads the app by itself then.`,
    code: 'ERR_SESSION_STOPPED',
    retry: true,
  };
}

export function agentGonePage(sessionId: string): PageOptions {
  return {
    status: 502,
    title: 'The developer’s machine is reconnecting',
    message: `Session ${sessionId} exists but its Wingman agent is not connected right now (network change, laptop asleep, or the developer stopped \`wingman http\`). This page loads the app by itself as soon as it is back.`,
    code: 'ERR_AGENT_DISCONNECTED',
    retry: true,
  };
}

/** @param sessions active sessions; undefined leaves the count out (METRICS_TOKEN set, no token presented). */
export function landingPage(publicUrl: string, sessions: number | undefined): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Wingman tunnel server</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:0 .25em;border-radius:3px}</style>
</head><body><h1>Wingman tunnel server</h1>
<p>This server shares developers' local apps through links like <code>${escapeHtml(publicUrl).replace('://', '://&lt;session&gt;.')}/</code>.</p>
<p>Share a local port: <code>wingman http 3000 --server ${escapeHtml(publicUrl)}</code></p>
<p>${sessions === undefined ? '' : `${sessions} session${sessions === 1 ? '' : 's'} active. `}Health: <a href="/healthz">/healthz</a></p>
</body></html>
`;
}
