/**
 * Header rules of a `wingman start` tunnel (`policy.requestHeaders`,
 * `policy.responseHeaders`), through real server, agent and P2P host
 * processes: the app gets the request as the rules edit it, over the relay
 * and over P2P (`wingman fetch`, a real data channel in a child process), the
 * viewer gets the response as they edit it, and the inspector shows both.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { AGENT_BIN, killAll, runWingmanFetch, startProcess, startServer } from '../helpers/processes';

jest.setTimeout(120_000);

let app: FixtureApp;
let dir: string;

beforeEach(async () => {
  app = await startFixtureApp();
  dir = mkdtempSync(join(tmpdir(), 'wingman-headers-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function inspectorGet(port: number, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString())));
    })
      .on('error', reject)
      .end();
  });
}

function startWith(config: unknown) {
  const file = join(dir, 'wingman.json');
  writeFileSync(file, JSON.stringify(config));
  return startProcess(AGENT_BIN, ['start', '--config', file, '--json'], { WINGMAN_STATE_DIR: join(dir, 'state') });
}

const POLICY = {
  requestHeaders: { remove: ['X-Secret'], set: { 'X-Team': 'blue' }, add: { 'X-Added': 'one' } },
  responseHeaders: { remove: ['Set-Cookie'], set: { 'Cache-Control': 'no-store' }, add: { 'X-Review': 'yes' } },
};

describe('header rules', () => {
  it('edit requests towards the app and responses towards the viewer, over the relay and P2P, and the inspector shows them', async () => {
    const server = await startServer();
    const agent = startWith({ server: server.url, inspect: 0, tunnels: { web: { target: String(app.port), policy: POLICY } } });
    const ready = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web');
    const host = new URL(String(ready.url)).host;

    const relayed = await send(server.port, host, { path: '/headers', headers: { 'x-secret': 'token', 'x-team': 'red', 'x-added': 'zero' } });
    const seen = JSON.parse(relayed.body.toString()) as Record<string, string>;
    expect(seen['x-secret']).toBeUndefined();
    expect(seen['x-team']).toBe('blue');
    expect(seen['x-added']).toBe('zero, one');
    expect(([] as string[]).concat(relayed.headers['set-cookie'] ?? []).some((c) => c.startsWith('app_session='))).toBe(false);
    expect(relayed.headers['cache-control']).toBe('no-store');
    expect(relayed.headers['x-review']).toBe('yes');

    const fetched = await runWingmanFetch([`${String(ready.url)}headers`, '--p2p-only']);
    expect(fetched.err).toContain('via p2p');
    expect(JSON.parse(fetched.out)).toMatchObject({ 'x-team': 'blue', 'x-added': 'one' });

    const inspector = Number(new URL(String(ready.inspector)).port);
    const { requests } = await inspectorGet(inspector, '/api/requests?transport=relay');
    const detail = await inspectorGet(inspector, `/api/requests/${requests[0].id}`);
    expect(detail.response.headers).toEqual(expect.arrayContaining([['x-review', 'yes']]));
    // The request as the app received it: the rules applied.
    expect(detail.request.headers).toEqual(expect.arrayContaining([['x-team', 'blue']]));
    expect(detail.request.headers.map(([name]: [string, string]) => name)).not.toContain('x-secret');
  });

  it('add a field to a WebSocket handshake as to an HTTP request: its own line after the viewer’s, as the inspector shows', async () => {
    // An app that keeps the raw head of each request and handshake.
    const heads = new Map<string, string[]>();
    const keep = (req: IncomingMessage) => heads.set(req.url ?? '', req.rawHeaders);
    const local = createServer((req, res) => {
      keep(req);
      res.end('ok');
    });
    new WebSocketServer({ server: local, path: '/ws' }).on('connection', (_ws, req) => keep(req));
    local.listen(0, '127.0.0.1');
    await once(local, 'listening');
    try {
      const server = await startServer();
      const policy = { requestHeaders: { add: { 'X-Added': 'one' } } };
      const agent = startWith({ server: server.url, inspect: 0, tunnels: { web: { target: String((local.address() as AddressInfo).port), policy } } });
      const ready = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web');
      const host = new URL(String(ready.url)).host;

      await send(server.port, host, { path: '/http', headers: { 'x-added': 'zero' } });
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { host, 'x-added': 'zero' } });
      await once(ws, 'open');
      ws.close();

      const fields = (raw: string[]) => raw.flatMap((v, i, all) => (i % 2 === 0 ? [[v.toLowerCase(), all[i + 1]!]] : []));
      const added = (list: string[][]) => list.filter(([name]) => name === 'x-added');
      expect(added(fields(heads.get('/http')!))).toEqual([
        ['x-added', 'zero'],
        ['x-added', 'one'],
      ]);
      expect(added(fields(heads.get('/ws')!))).toEqual(added(fields(heads.get('/http')!)));

      const inspector = Number(new URL(String(ready.inspector)).port);
      for (const path of ['/http', '/ws']) {
        const { requests } = await inspectorGet(inspector, `/api/requests?path=${path}`);
        const detail = await inspectorGet(inspector, `/api/requests/${requests[0].id}`);
        expect(added(detail.request.headers)).toEqual(added(fields(heads.get(path)!)));
      }
    } finally {
      local.closeAllConnections();
      await new Promise((resolve) => local.close(resolve));
    }
  });

  it('refuse a rule on a field the tunnel owns, naming the file, tunnel and field (exit 2)', async () => {
    for (const [rules, message] of [
      [
        { requestHeaders: { set: { Host: 'x' } } },
        'tunnels.web.policy.requestHeaders.set.Host: host cannot be changed by a rule: the tunnel sets it: use hostHeader',
      ],
      [{ responseHeaders: { remove: ['Content-Length'] } }, 'tunnels.web.policy.responseHeaders.remove: content-length cannot be changed by a rule'],
      [
        { requestHeaders: { add: { 'X-A': 'one\r\nInjected: yes' } } },
        'tunnels.web.policy.requestHeaders.add.X-A: a header value is at most 8192 visible characters',
      ],
      [{ requestHeaders: { set: { 'Bad Name': 'x' } } }, 'tunnels.web.policy.requestHeaders.set.Bad Name: "Bad Name" is not a header name'],
    ] as const) {
      const agent = startWith({ tunnels: { web: { target: String(app.port), policy: rules } } });
      expect((await agent.waitForExit({ timeoutMs: 15_000, what: 'wingman to refuse the rule' })).code).toBe(2);
      expect(agent.stderr()).toContain(message);
    }
  });
});
