/**
 * Viewers of a session as the tunnel server tells them apart (docs/PROTOCOL.md
 * §Viewer identity): a browser-like viewer gets its cookie on its first
 * navigation and sends it back; the inspector's viewer API admits, refuses
 * and revokes them.
 */
import { request } from 'node:http';
import WebSocket from 'ws';
import { send, type Reply } from './http-client';
import { until } from './wait';

/** A navigation's Fetch Metadata: what makes the server issue a fresh viewer cookie. */
export const NAVIGATION_HEADERS = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' };

export interface TestViewer {
  /** The visitor id (the cookie's first part). */
  id: string;
  cookie: string;
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  /** Status of a WebSocket upgrade at `path` with this viewer's cookie (101 when it opened). */
  upgrade(path: string): Promise<number>;
}

/** The `wingman_viewer=<value>` pair of a response's Set-Cookie, or undefined. */
export function viewerCookieOf(reply: Reply): string | undefined {
  const all = reply.headers['set-cookie'] ?? [];
  return all.map((c) => c.split(';')[0]!).find((c) => c.startsWith('wingman_viewer='));
}

export function upgradeStatus(port: number, host: string, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host, ...headers }, ...(localAddress ? { localAddress } : {}) });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', reject);
  });
}

/** A viewer that navigated to `/` once (a fresh cookie), then sends it on every request. */
export async function newViewer(port: number, host: string): Promise<TestViewer> {
  const first = await send(port, host, { path: '/', headers: NAVIGATION_HEADERS });
  const cookie = viewerCookieOf(first);
  if (!cookie) throw new Error(`no viewer cookie on the first navigation (status ${first.status})`);
  const id = cookie.slice('wingman_viewer='.length).split('.')[0]!;
  return {
    id,
    cookie,
    get: (path, headers = {}) => send(port, host, { path, headers: { cookie, ...headers } }),
    upgrade: (path) => upgradeStatus(port, host, path, { cookie }),
  };
}

/** A request to the agent's inspector on 127.0.0.1:`port`; the answer's JSON (undefined when empty). */
export function inspectorApi(port: number, path: string, method = 'GET'): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` (nothing announces a viewer's state change) until it returns true; throws after `timeoutMs`. */
export async function untilTrue(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  await until(async () => ((await probe()) ? true : undefined), { timeoutMs, intervalMs: 100, what });
}

/** The state of viewer `id` as the agent's inspector lists it (undefined: not listed). */
export async function viewerStateOf(inspectorPort: number, id: string): Promise<string | undefined> {
  const { json } = await inspectorApi(inspectorPort, '/api/viewers');
  return json.viewers.find((v: { id: string }) => v.id === id)?.state;
}

/** The inspector port named in an agent's `ready` line (`--inspect 0`). */
export function inspectorPortOf(agent: { events: Array<Record<string, unknown>> }): number {
  return Number(new URL(String(agent.events.find((e) => e.event === 'ready')!.inspector)).port);
}
