/**
 * The apex host (and any host that is not a session host): health check, landing page, metrics, and a hint for plain
 * HTTP requests to the agent endpoint. Agents themselves arrive as upgrades (see router).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AGENT_PATH } from '@wingman/protocol';
import type { SignInFlow } from '../access/sign-in-flow';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { SessionRegistry } from '../sessions/registry';
import { createTokenCheck } from '../sessions/token-check';
import { isHttp2Response } from '../http/http2-compat';
import { sendJson } from '../http/json-response';
import { landingPage } from '../http/pages';
import { pathnameOf } from './reserved-routes';
import { TLS_ASK_PATH } from './tls-permission';

interface ApexAppOptions {
  registry: SessionRegistry;
  metrics: Metrics;
  logger: Logger;
  publicUrl: string;
  /** When set, `/metrics` answers 401 without `Authorization: Bearer <token>`, and the landing page and /healthz leave the session count out. */
  metricsToken?: string;
  /** Answers the on-demand TLS permission check at TLS_ASK_PATH (routing/tls-permission.ts). */
  tlsPermission: (req: IncomingMessage, res: ServerResponse) => void;
  /** The sign-in's two paths, answered before anything else (none without an issuer: access/sign-in-flow.ts). */
  signIn?: SignInFlow;
}

/** The health check: answers while the server runs, also at its descriptor limit (listener/connection-guard.ts). */
export const HEALTH_PATH = '/healthz';

/** The apex's request handler: plain Node request/response calls only, so it serves HTTP/1.1 and HTTP/2 (http/http2-compat.ts) alike. */
export type ApexApp = (req: IncomingMessage, res: ServerResponse) => void;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}, head = false): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers });
  res.end(head ? undefined : body);
}

export function createApexApp(options: ApexAppOptions): ApexApp {
  const { registry, metrics, metricsToken } = options;

  const metricsCheck = metricsToken === undefined ? undefined : createTokenCheck([metricsToken]);
  /** May this request see counts (sessions, metrics)? Always, unless a metrics token is configured. */
  const mayCount = (req: IncomingMessage): boolean => metricsCheck === undefined || metricsCheck(req) !== undefined;

  const fail = (res: ServerResponse, err: unknown) => {
    options.logger.error({ err }, 'apex request failed');
    if (res.headersSent) return void res.destroy();
    sendJson(res, 500, { error: 'ERR_INTERNAL', message: 'internal error' });
  };

  return (req, res) => {
    if (options.signIn?.handle(req, res)) return;
    // The apex answers without reading request bodies.
    req.resume();
    const path = pathnameOf(req.url);
    const head = req.method === 'HEAD';
    const get = req.method === 'GET' || head;
    try {
      if (path === AGENT_PATH) {
        // HTTP/2 has no Upgrade field (Node refuses it there).
        const upgrade: Record<string, string> = isHttp2Response(res) ? {} : { upgrade: 'websocket' };
        send(res, 426, 'text/plain; charset=utf-8', 'The Wingman agent endpoint speaks WebSocket only.\n', upgrade);
      } else if (get && path === TLS_ASK_PATH) {
        options.tlsPermission(req, res);
      } else if (get && path === HEALTH_PATH) {
        const { live, grace } = registry.stats();
        sendJson(res, 200, mayCount(req) ? { ok: true, sessions: live + grace } : { ok: true }, {}, head);
      } else if (get && path === '/') {
        send(res, 200, 'text/html; charset=utf-8', landingPage(options.publicUrl, mayCount(req) ? registry.stats().live : undefined), {}, head);
      } else if (get && path === '/metrics') {
        if (!mayCount(req)) {
          const body = { error: 'ERR_METRICS_TOKEN', message: "this server's /metrics needs Authorization: Bearer <METRICS_TOKEN>" };
          return sendJson(res, 401, body, { 'www-authenticate': 'Bearer realm="wingman-metrics"' });
        }
        metrics.registry.metrics().then(
          (text) => send(res, 200, metrics.registry.contentType, text, {}, head),
          (err: unknown) => fail(res, err),
        );
      } else {
        sendJson(res, 404, { error: 'ERR_NOT_FOUND', message: 'not found' });
      }
    } catch (err) {
      fail(res, err);
    }
  };
}
