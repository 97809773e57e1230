/**
 * The inspector's JSON API (docs/cli.md "Inspector"): /api/tunnels,
 * /api/requests (list, one, replay, clear), /api/events (Server-Sent Events),
 * /api/viewers (viewers-api.ts). Errors are `{"error":{"code":"ERR_*","message":...}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { InspectorErrorCode } from '@wingman/protocol';
import { MAX_CAPTURE_BODY_LIMIT_BYTES } from '../forward';
import { detail, entryFilterSchema, summarize, type Entry, type RequestStore } from './store';
import { handleViewersApi, viewerJson, type ViewerSource } from './viewers-api';

/** SSE connections are not cut as idle in between, and a gone page is noticed. */
const SSE_KEEPALIVE_MS = 15_000;
/** An edited body up to the capture cap, as base64, plus its headers. */
const MAX_REPLAY_JSON_BYTES = Math.ceil(MAX_CAPTURE_BODY_LIMIT_BYTES / 3) * 4 + 1024 * 1024;
/** It comes from this machine, ms. */
const REPLAY_READ_TIMEOUT_MS = 10_000;

export interface TunnelInfo {
  /** Absent for `wingman http`. */
  name?: string;
  publicUrl: string;
  sessionId: string;
  target: string;
  p2p: boolean;
  access: string;
}

export interface ApiContext {
  store: RequestStore;
  tunnels(): TunnelInfo[];
  /** Resolves with the new entry. */
  replay(entry: Entry, overrides: ReplayOverrides): Promise<Entry>;
  viewers(): readonly ViewerSource[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const overridesSchema = z
  .object({
    method: z
      .string()
      .min(1)
      .max(32)
      .regex(TOKEN, 'method must be an HTTP token')
      .transform((m) => m.toUpperCase())
      .optional(),
    // Origin-form only: the authority is always the configured local app.
    path: z
      .string()
      .min(1)
      .max(8192)
      .regex(/^\/[^\s]*$/, 'path must start with / and hold no spaces')
      .optional(),
    headers: z
      .array(
        z
          .tuple([
            z.string().min(1).max(256).regex(TOKEN, 'header names must be HTTP tokens'),
            z
              .string()
              .max(65_536)
              .regex(/^[^\r\n\0]*$/, 'header values must not hold CR, LF or NUL'),
          ])
          .transform(([n, v]): [string, string] => [n.toLowerCase(), v]),
      )
      .max(256)
      .optional(),
    body: z.string().optional(),
    bodyEncoding: z.enum(['utf8', 'base64']).optional(),
  })
  .strict()
  .transform(({ body, bodyEncoding, ...o }) => ({ ...o, body: body === undefined ? undefined : Buffer.from(body, bodyEncoding ?? 'utf8') }));

/** What is absent is taken from the captured request. */
export type ReplayOverrides = z.output<typeof overridesSchema>;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': text.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

const apiError = (res: ServerResponse, status: number, code: InspectorErrorCode, message: string) => sendJson(res, status, { error: { code, message } });

/** A bug, not bad input: answered (or the response cut) and warned about, and the agent keeps running. */
export function internalError(res: ServerResponse, err: unknown, message: string): void {
  if (!res.headersSent) apiError(res, 500, 'ERR_INTERNAL', message);
  else res.destroy();
  process.emitWarning(`wingman inspector: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}

export function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, api: ApiContext): void {
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/api/tunnels' && method === 'GET') return sendJson(res, 200, { tunnels: api.tunnels() });
  if (path === '/api/events' && method === 'GET') return openEvents(req, res, api);
  if (path.startsWith('/api/viewers') && handleViewersApi(req, res, path, api.viewers(), sendJson)) return;
  if (path === '/api/requests') {
    if (method === 'DELETE') {
      api.store.clear();
      res.writeHead(204).end();
      return;
    }
    if (method === 'GET') {
      const parsed = entryFilterSchema.safeParse(Object.fromEntries(url.searchParams));
      if (!parsed.success)
        return apiError(res, 400, 'ERR_INVALID_QUERY', parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
      const list = api.store.list(parsed.data).reverse();
      return sendJson(res, 200, { requests: list.map(summarize) });
    }
  }
  // GET /api/requests/:id, POST /api/requests/:id/replay.
  const m = /^\/api\/requests\/([0-9]{1,15})(\/replay)?$/.exec(path);
  if (m && method === (m[2] ? 'POST' : 'GET')) {
    const entry = api.store.get(Number(m[1]));
    if (!entry) return apiError(res, 404, 'ERR_NOT_FOUND', `no request ${m[1]} (cleared, or older than the history kept)`);
    if (!m[2]) return sendJson(res, 200, detail(entry));
    // Caught: an unhandled rejection would end the agent.
    return void replay(req, res, entry, api).catch((err: unknown) => internalError(res, err, 'replay failed'));
  }
  apiError(res, 404, 'ERR_NOT_FOUND', `no ${method} ${path}`);
}

async function replay(req: IncomingMessage, res: ServerResponse, entry: Entry, api: ApiContext): Promise<void> {
  const text = await readBody(req).catch((err: Error) => err);
  if (text instanceof Error) return apiError(res, text.message.includes('large') ? 413 : 400, 'ERR_INVALID_BODY', text.message);
  let json: unknown = {};
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      return apiError(res, 400, 'ERR_INVALID_BODY', 'the body must be JSON: {"method","path","headers":[[name,value]],"body","bodyEncoding"}, all optional');
    }
  }
  const parsed = overridesSchema.safeParse(json);
  if (!parsed.success) return apiError(res, 400, 'ERR_INVALID_BODY', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  if (entry.websocket) return apiError(res, 409, 'ERR_REPLAY_UNSUPPORTED', 'WebSocket connections cannot be replayed');
  if (parsed.data.body === undefined && entry.requestBody.truncated) {
    return apiError(
      res,
      409,
      'ERR_BODY_TRUNCATED',
      `only the first ${entry.requestBody.data.length} of ${entry.requestBody.size} body bytes were captured; send a body to replay it`,
    );
  }
  const created = await api.replay(entry, parsed.data);
  sendJson(res, 201, { request: summarize(created) });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const timer = setTimeout(() => req.destroy(new Error('the body did not arrive in time')), REPLAY_READ_TIMEOUT_MS);
  try {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_REPLAY_JSON_BYTES) throw new Error(`body too large (more than ${MAX_REPLAY_JSON_BYTES} bytes)`);
      parts.push(c);
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    clearTimeout(timer);
  }
}

function openEvents(req: IncomingMessage, res: ServerResponse, api: ApiContext): void {
  const { store } = api;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-content-type-options': 'nosniff',
  });
  res.write(': wingman inspector\n\n');
  const unsubscribe = store.subscribe((e) => {
    if (e.type === 'added') res.write(`event: request\ndata: ${JSON.stringify(summarize(e.entry))}\n\n`);
    else res.write('event: cleared\ndata: {}\n\n');
  });
  const viewerListeners = api.viewers().map((source) => {
    const listener = (v: Parameters<typeof viewerJson>[0]) => void res.write(`event: viewer\ndata: ${JSON.stringify(viewerJson(v, source.tunnel))}\n\n`);
    const gone = (id: string) => void res.write(`event: viewer-gone\ndata: ${JSON.stringify({ id })}\n\n`);
    source.roster.on('viewer', listener);
    source.roster.on('gone', gone);
    return () => {
      source.roster.off('viewer', listener);
      source.roster.off('gone', gone);
    };
  });
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
  const stop = () => {
    clearInterval(keepalive);
    unsubscribe();
    for (const off of viewerListeners) off();
  };
  req.on('close', stop);
  res.on('error', stop);
}
