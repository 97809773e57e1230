/**
 * `wingman start`: several tunnels from one config file in one process,
 * through a real tunnel server and two local apps on loopback; the shared
 * inspector's API; and the config file's validation (exit code 2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { AGENT_BIN, killAll, startProcess, startServer, type Proc } from '../helpers/processes';

jest.setTimeout(120_000);

/** A run of `wingman start` that is expected to end by itself (a config error) must end within this. */
const EXIT_TIMEOUT_MS = 15_000;

let dir: string;
let apps: Array<{ port: number; close(): Promise<void> }> = [];

/** A local app that answers every request with its own name. */
async function startNamedApp(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${name} ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const app = { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) };
  apps.push(app);
  return app;
}

function writeConfig(content: unknown): string {
  const file = join(dir, 'wingman.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function startWingman(args: string[]): Proc {
  return startProcess(AGENT_BIN, args, { WINGMAN_STATE_DIR: join(dir, 'state') });
}

/** The exit code of a run expected to end by itself. */
async function exitOf(proc: Proc): Promise<number | null> {
  return (await proc.waitForExit({ timeoutMs: EXIT_TIMEOUT_MS, what: 'wingman to exit' })).code;
}

/** Runs `wingman start` expected to end by itself: its exit code and stderr. */
async function runToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = startWingman(args);
  const code = await exitOf(proc);
  return { code, stderr: proc.stderr() };
}

function getJson(port: number, path: string, method = 'GET'): Promise<any> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}` } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(parts).toString())));
    })
      .on('error', reject)
      .end();
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-start-'));
});

afterEach(async () => {
  await killAll();
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
  rmSync(dir, { recursive: true, force: true });
});

describe('wingman start', () => {
  it('serves each tunnel of the file at its own URL, and the one inspector lists both and tags each request with its tunnel', async () => {
    const { port: serverPort, url: server } = await startServer();
    const web = await startNamedApp('web');
    const api = await startNamedApp('api');
    const file = writeConfig({ server, inspect: 0, tunnels: { web: { target: String(web.port) }, api: { target: `127.0.0.1:${api.port}`, p2p: false } } });
    const agent = startWingman(['start', '--config', file, '--json']);
    const readyWeb = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web');
    const readyApi = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'api');
    expect(readyWeb.url).not.toBe(readyApi.url);
    expect(readyWeb.target).toBe(`http://localhost:${web.port}`);
    expect(readyApi.target).toBe(`http://127.0.0.1:${api.port}`);
    expect(readyWeb.inspector).toBe(readyApi.inspector);

    const viaWeb = await send(serverPort, new URL(String(readyWeb.url)).host, { path: '/one' });
    const viaApi = await send(serverPort, new URL(String(readyApi.url)).host, { path: '/two' });
    expect(viaWeb.body.toString()).toBe('web /one');
    expect(viaApi.body.toString()).toBe('api /two');

    const inspector = Number(new URL(String(readyWeb.inspector)).port);
    const { tunnels } = await getJson(inspector, '/api/tunnels');
    expect(tunnels).toEqual(
      expect.arrayContaining([
        { name: 'web', publicUrl: readyWeb.url, sessionId: readyWeb.sessionId, target: `http://localhost:${web.port}`, p2p: true, access: 'link' },
        { name: 'api', publicUrl: readyApi.url, sessionId: readyApi.sessionId, target: `http://127.0.0.1:${api.port}`, p2p: false, access: 'link' },
      ]),
    );
    expect(tunnels).toHaveLength(2);
    const { requests } = await getJson(inspector, '/api/requests');
    expect(requests.map((r: any) => [r.tunnel, r.path]).sort()).toEqual([
      ['api', '/two'],
      ['web', '/one'],
    ]);
    const onlyApi = await getJson(inspector, '/api/requests?tunnel=api');
    expect(onlyApi.requests.map((r: any) => r.path)).toEqual(['/two']);

    // A replay goes to its own tunnel's app, and is tagged with that tunnel.
    const replayed = await getJson(inspector, `/api/requests/${onlyApi.requests[0].id}/replay`, 'POST');
    expect(replayed.request).toMatchObject({ transport: 'replay', tunnel: 'api', path: '/two' });
    const detail = await getJson(inspector, `/api/requests/${replayed.request.id}`);
    expect(Buffer.from(detail.response.body.data, 'base64').toString()).toBe('api /two');
  });

  it("exits with the failure's code once every tunnel has ended, after a fatal line for each", async () => {
    const { url: server } = await startServer();
    const web = await startNamedApp('web');
    const file = writeConfig({
      server,
      token: 'not-a-token-this-server-knows',
      inspect: false,
      tunnels: { web: { target: String(web.port) }, api: { target: String(web.port) } },
    });
    const agent = startWingman(['start', '--config', file, '--json']);
    expect(await exitOf(agent)).toBe(5);
    const fatal = agent.events
      .filter((e) => e.event === 'fatal')
      .map((e) => [e.tunnel, e.code])
      .sort();
    expect(fatal).toEqual([
      ['api', 'ERR_TOKEN_REFUSED'],
      ['web', 'ERR_TOKEN_REFUSED'],
    ]);
  });

  it('keeps the other tunnels running when one of them ends', async () => {
    const { port: serverPort, url: server } = await startServer();
    const web = await startNamedApp('web');
    // The second tunnel ends on its own (its session expires) while the first is still in use.
    const file = writeConfig({ server, inspect: false, tunnels: { web: { target: String(web.port) }, late: { target: String(web.port), expires: '1s' } } });
    const agent = startWingman(['start', '--config', file, '--json']);
    const readyWeb = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web');
    await agent.waitFor((e) => e.event === 'fatal' && e.tunnel === 'late' && e.code === 'ERR_SESSION_EXPIRED');
    const viaWeb = await send(serverPort, new URL(String(readyWeb.url)).host, { path: '/still' });
    expect(viaWeb.body.toString()).toBe('web /still');
    expect(agent.child.exitCode).toBeNull();

    // Each ended on purpose (expiry, then SIGTERM): exit 0, with a closed event for the one still running.
    agent.child.kill('SIGTERM');
    expect(await exitOf(agent)).toBe(0);
    expect(agent.events.filter((e) => e.event === 'closed').map((e) => e.tunnel)).toEqual(['web']);
  });

  it('gives each tunnel its own URL back after a restart', async () => {
    const { url: server } = await startServer();
    const web = await startNamedApp('web');
    const api = await startNamedApp('api');
    const file = writeConfig({ server, inspect: false, tunnels: { web: { target: String(web.port) }, api: { target: String(api.port) } } });
    const urls = async () => {
      const agent = startWingman(['start', '--config', file, '--json']);
      const found = {
        web: (await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'web')).url,
        api: (await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'api')).url,
      };
      agent.child.kill('SIGTERM');
      expect(await exitOf(agent)).toBe(0);
      return found;
    };
    const first = await urls();
    expect(first.web).not.toBe(first.api);
    expect(await urls()).toEqual(first);
  });

  it.each([
    [
      'an unknown key',
      { server: 'http://127.0.0.1:1', tunnels: { web: { target: '3000', colour: 'red' } } },
      /wingman\.json: tunnels\.web: unknown key "colour"/,
    ],
    ['a bad port', { server: 'http://127.0.0.1:1', tunnels: { web: { target: '99999' } } }, /wingman\.json: tunnels\.web\.target: invalid port 99999/],
    ['no tunnels', { server: 'http://127.0.0.1:1' }, /wingman\.json: tunnels: missing: this field is required/],
    ['an empty tunnels object', { tunnels: {} }, /wingman\.json: tunnels: name at least one tunnel/],
    ['a bad value for a flag', { tunnels: { web: { target: '3000', timeout: 0 } } }, /wingman\.json: tunnels\.web\.timeout: invalid --timeout "0"/],
    ['not JSON', '{ "tunnels": ', /wingman\.json: not valid JSON/],
  ])('exits 2 naming the file, tunnel and field on %s', async (_what, content, message) => {
    const file = writeConfig(content);
    const { code, stderr } = await runToExit(['start', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 when there is no config file', async () => {
    const { code, stderr } = await runToExit(['start', '--config', join(dir, 'absent.json')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/cannot read .*absent\.json: ENOENT/);
  });
});
