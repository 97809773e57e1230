/**
 * The apex host (and any host that is not a session host): health check,
 * landing page, metrics, and a hint for plain HTTP requests to the agent
 * endpoint. Agents themselves arrive as upgrades (see router).
 */
import { AGENT_PATH } from '@wingman/protocol';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { SessionRegistry } from '../sessions/registry';
import { constantTimeEqual } from '../sessions/session-id';
import { landingPage } from './pages';

export interface ApexAppOptions {
  registry: SessionRegistry;
  metrics: Metrics;
  logger: Logger;
  /** Public URL of the server, for the landing page. */
  publicUrl: string;
  /**
   * When set, `/metrics` answers 401 without `Authorization: Bearer <token>`,
   * and the landing page and /healthz leave the session count out.
   */
  metricsToken?: string;
}

/** The health check: answers while the server runs, also at its descriptor limit (connection-guard.ts). */
export const HEALTH_PATH = '/healthz';

/** Stable code of a /metrics request without the metrics token. */
export const ERR_METRICS_TOKEN = 'ERR_METRICS_TOKEN';

export function createApexApp(options: ApexAppOptions): Express {
  const { registry, metrics, metricsToken } = options;
  const app = express();
  app.disable('x-powered-by');

  /** May this request see counts (sessions, metrics)? Always, unless a metrics token is configured. */
  const mayCount = (req: Request): boolean => {
    if (metricsToken === undefined) return true;
    const m = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(req.headers.authorization ?? '');
    return m !== null && constantTimeEqual(m[1]!, metricsToken);
  };

  app.get(HEALTH_PATH, (req, res) => {
    const { live, grace } = registry.stats();
    res.set('cache-control', 'no-store').json(mayCount(req) ? { ok: true, sessions: live + grace } : { ok: true });
  });

  app.get('/', (req, res) => {
    const { live } = registry.stats();
    res
      .type('html')
      .set('cache-control', 'no-store')
      .send(landingPage(options.publicUrl, mayCount(req) ? live : undefined));
  });

  app.get('/metrics', (req, res, next) => {
    if (!mayCount(req)) {
      res
        .status(401)
        .set('www-authenticate', 'Bearer realm="wingman-metrics"')
        .json({ error: ERR_METRICS_TOKEN, message: "this server's /metrics needs Authorization: Bearer <METRICS_TOKEN>" });
      return;
    }
    metrics.registry.metrics().then((text) => res.type(metrics.registry.contentType).send(text), next);
  });

  app.all(AGENT_PATH, (_req, res) => {
    res.status(426).set('upgrade', 'websocket').type('text').send('The Wingman agent endpoint speaks WebSocket only.\n');
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'ERR_NOT_FOUND', message: 'not found' });
  });

  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    options.logger.error({ err }, 'apex request failed');
    if (res.headersSent) return void res.destroy();
    res.status(500).json({ error: 'ERR_INTERNAL', message: 'internal error' });
  });
  return app;
}
