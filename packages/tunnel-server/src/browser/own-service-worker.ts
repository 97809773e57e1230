/**
 * An app with a Service Worker of its own: Wingman steps aside for that browser. The shell POSTs OWN_SW_PATH when the
 * app registers one; the answer sets OWN_SW_COOKIE (HttpOnly, removed before the app: tag-viewer.ts), and while it is
 * set the browser's navigations get the app over the relay, not the shell, so the app's worker controls its pages.
 * `application/json` is required, so a cross-site form POST cannot set it. The agent is told (`viewer-own-sw`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_OWN_SW_SCRIPT_CHARS, OWN_SW_COOKIE } from '@wingman/protocol';
import { sendJson } from '../http/json-response';
import { ownCookie, requestCookie } from '../http/request-cookie';
import type { ReservedContext } from '../routing/reserved-routes';

/** True when this browser's app runs its own Service Worker (OWN_SW_COOKIE): serve it the app, never the shell. */
export function appOwnsServiceWorker(req: IncomingMessage): boolean {
  return requestCookie(req, OWN_SW_COOKIE) === '1';
}

/** The OWN_SW_PATH handler. `secureCookie`: the server's public scheme is https. */
export function createOwnServiceWorkerHandler(secureCookie: boolean) {
  return (req: IncomingMessage, res: ServerResponse, ctx: ReservedContext): void => {
    req.resume();
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'ERR_METHOD', message: 'POST only' });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: 'ERR_CONTENT_TYPE', message: 'content-type must be application/json' });
    res.setHeader('set-cookie', ownCookie(OWN_SW_COOKIE, '1', secureCookie));
    const script = new URL(req.url ?? '/', 'http://session').searchParams.get('script') ?? '';
    ctx.session?.agent?.sendControl({
      type: 'viewer-own-sw',
      script: script.slice(0, MAX_OWN_SW_SCRIPT_CHARS),
      ...(ctx.viewerId !== undefined ? { visitorId: ctx.viewerId } : {}),
    });
    sendJson(res, 200, { ok: true });
  };
}
