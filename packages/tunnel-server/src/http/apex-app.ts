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
import { landingPage } from './pages';

export interface ApexAppOptions {
  registry: SessionRegistry;
  metrics: Metrics;
  logger: Logger;
  /** Public URL of the server, for the landing page. */
  publicUrl: string;
}

export function createApexApp(options: ApexAppOptions): Express {
  const { registry, metrics } = options;
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    const { live, grace } = registry.stats();
    res.set('cache-control', 'no-store').json({ ok: true, sessions: live + grace });
  });

  app.get('/', (_req, res) => {
    const { live } = registry.stats();
    res.type('html').set('cache-control', 'no-store').send(landingPage(options.publicUrl, live));
  });

  app.get('/metrics', (_req, res, next) => {
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
