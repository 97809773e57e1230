/**
 * `wingman http --expires`: the tunnel server ends the session at its
 * deadline (the agent is told ERR_SESSION_EXPIRED and closed), viewers then
 * get a "link expired" page, and the link never comes back — through real
 * processes on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_VERSION, parseServerMessage, type ServerToAgentReceived } from '@wingman/protocol';
import WebSocket from 'ws';
import { openAgentSocket } from '../../packages/tunnel-server/test/integration/helpers/test-agent';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startAgent, startServer, type Proc } from '../helpers/processes';
import { until, withTimeout } from '../helpers/wait';
import { upgradeStatus } from '../helpers/viewer-client';

jest.setTimeout(120_000);

/** The local development token the spawned server accepts by default. */
const DEV_TOKEN = 'wingman-local-dev-token';

let app: FixtureApp;
/** The file's server: every test's sessions are its own, so they share it, but for the tests that restart theirs. */
let shared: { port: number; url: string; proc: Proc };
/** The server of the current test: `shared`, or its own (`ownServer`). */
let server: { port: number; url: string; proc: Proc };
let stateDir: string;

async function startOne(): Promise<{ port: number; url: string; proc: Proc }> {
  const s = await startServer();
  return { port: s.port, url: s.url, proc: s.server };
}

/** A server of the test's own, made the current one: for a test that restarts it (its sessions and ended ids go with it). */
async function ownServer(): Promise<void> {
  server = await startOne();
}

beforeAll(async () => {
  app = await startFixtureApp();
  shared = await startOne();
});

beforeEach(() => {
  server = shared;
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-expiry-'));
});

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll([shared.proc]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

afterAll(async () => {
  await killAll();
  await app?.close();
});

/** Registers over a raw agent socket; resolves with the server's messages (text) as they come. */
async function rawAgent(register: Record<string, unknown>): Promise<{ ws: WebSocket; next(): Promise<ServerToAgentReceived>; closed: Promise<void> }> {
  const ws = await openAgentSocket(server.port, DEV_TOKEN);
  const queue: ServerToAgentReceived[] = [];
  const waiting: Array<(m: ServerToAgentReceived) => void> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const m = parseServerMessage(data.toString());
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  ws.send(JSON.stringify({ type: 'register', version: PROTOCOL_VERSION, p2p: false, client: 'wingman-test/0', ...register }));
  return {
    ws,
    closed,
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : withTimeout(new Promise<ServerToAgentReceived>((resolve) => waiting.push(resolve)), { timeoutMs: 10_000, what: 'a message from the server' }),
  };
}

/** What an agent's start said of an earlier session's end: reconnecting events, and stderr lines naming ERR_SESSION_EXPIRED. */
function freshStartNoise(agent: Proc): unknown[] {
  return [
    ...agent.events.filter((e) => e.event === 'reconnecting'),
    ...agent
      .stderr()
      .split('\n')
      .filter((l) => l.includes('ERR_SESSION_EXPIRED')),
  ];
}

/** Stops the test's own server (its in-memory sessions and ended ids go with it; the session key stays). */
const killServer = () => server.proc.kill('SIGKILL');

describe('session expiry (--expires)', () => {
  it('serves until the deadline, then the agent exits cleanly and viewers get a 410 "link expired" page', async () => {
    const before = Date.now();
    const { agent, url } = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '2s', '--inspect', 'false']);
    const host = new URL(url).host;
    const ready = agent.events.find((e) => e.event === 'ready')!;
    const expiresAt = Date.parse(String(ready.expiresAt));
    expect(expiresAt).toBeGreaterThanOrEqual(before + 2_000);
    expect(expiresAt).toBeLessThan(Date.now() + 2_000);
    expect((await send(server.port, host, { path: '/hello' })).status).toBe(200);

    const ended = await agent.waitFor((e) => e.event === 'fatal', 15_000);
    expect(ended.code).toBe('ERR_SESSION_EXPIRED');
    const code = await new Promise<number | null>((r) => (agent.child.exitCode !== null ? r(agent.child.exitCode) : agent.child.once('exit', (c) => r(c))));
    expect(code).toBe(0);

    const page = await send(server.port, host, { path: '/hello' });
    expect(page.status).toBe(410);
    expect(page.body.toString()).toContain('This link has expired');
    expect(page.body.toString()).toContain('ERR_SESSION_EXPIRED');
    expect(await upgradeStatus(server.port, host, '/ws')).toBe(410);
  });

  it("closes a P2P viewer's data channel at the deadline", async () => {
    const { agent, url } = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '4s', '--inspect', 'false']);
    const viewer = await connectViewerProcess({ url, timeoutMs: 20_000 });
    try {
      const closed = viewer.waitForClose(0, 20_000);
      closed.catch(() => undefined); // awaited below, after the agent's fatal line
      expect((await viewer.state()).connection.isClosed).toBe(false);
      await agent.waitFor((e) => e.event === 'fatal' && e.code === 'ERR_SESSION_EXPIRED', 15_000);
      await closed;
    } finally {
      await viewer.close();
    }
  });

  it('is enforced by the server even when the agent stays connected, and the session cannot be resumed', async () => {
    const a = await rawAgent({ expiresInMs: 1_000 });
    const registered = await a.next();
    expect(registered.type).toBe('registered');
    if (registered.type !== 'registered') return;
    expect(registered.expiresAt).toBeGreaterThan(Date.now());
    const host = `${registered.sessionId}.localhost:${server.port}`;

    expect(await a.next()).toMatchObject({ type: 'error', code: 'ERR_SESSION_EXPIRED' });
    await a.closed;
    expect((await send(server.port, host, { path: '/' })).status).toBe(410);

    const again = await rawAgent({ resume: { sessionId: registered.sessionId, resumeSecret: registered.resumeSecret } });
    expect(await again.next()).toMatchObject({ type: 'error', code: 'ERR_SESSION_EXPIRED' });
    await again.closed;
    expect((await send(server.port, host, { path: '/' })).status).toBe(410);
  });

  it('gives a restarted agent a new session when its saved one expired', async () => {
    const first = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '1s', '--inspect', 'false']);
    await first.agent.waitFor((e) => e.event === 'fatal' && e.code === 'ERR_SESSION_EXPIRED', 15_000);
    const second = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--inspect', 'false']);
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.agent.events.find((e) => e.event === 'ready')).not.toHaveProperty('expiresAt');
    // Nothing failed: the start says nothing of the ended session, and retries nothing.
    expect(freshStartNoise(second.agent)).toEqual([]);
    expect((await send(server.port, new URL(second.url).host, { path: '/hello' })).status).toBe(200);
  });

  it('keeps the deadline when the server restarts and the agent resumes', async () => {
    await ownServer();
    const { agent, url } = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '30s', '--inspect', 'false']);
    const firstDeadline = agent.events.find((e) => e.event === 'ready')!.expiresAt;
    await killServer();
    await startServer({}, ['--port', String(server.port)]);
    const back = await agent.waitFor((e) => e.event === 'ready' && e !== agent.events.find((x) => x.event === 'ready'), 45_000);
    expect(back).toMatchObject({ url, resumed: true });
    expect(back.expiresAt).toBe(firstDeadline);
  });

  it('never brings back a link that expired while its agent was down, even after a server restart and without --expires', async () => {
    await ownServer();
    const first = await startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '1s', '--inspect', 'false']);
    const expiresAt = Date.parse(String(first.agent.events.find((e) => e.event === 'ready')!.expiresAt));
    await first.agent.kill('SIGKILL');
    // The server that saw it end forgets with its restart; the deadline must hold anyway.
    await until(() => Date.now() > expiresAt + 200 || undefined, { timeoutMs: 5_000, intervalMs: 50, what: 'the deadline to pass' });
    await killServer();
    const restarted = await startServer({}, ['--port', String(server.port)]);
    const second = await startAgent(restarted.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--inspect', 'false']);
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(second.agent.events.find((e) => e.event === 'ready')).toMatchObject({ resumed: false });
    expect(freshStartNoise(second.agent)).toEqual([]);
    expect((await send(restarted.port, new URL(first.url).host, { path: '/hello' })).status).not.toBe(200);
  });

  it('gives an agent that asks for an expiry on a session without one a new session with the deadline bound in', async () => {
    const first = await rawAgent({});
    const plain = await first.next();
    if (plain.type !== 'registered') throw new Error(`not registered: ${JSON.stringify(plain)}`);
    first.ws.close();
    await first.closed;
    const again = await rawAgent({ resume: { sessionId: plain.sessionId, resumeSecret: plain.resumeSecret }, expiresInMs: 60_000 });
    const bound = await again.next();
    expect(bound).toMatchObject({ type: 'registered', resumed: false, expiresAt: expect.any(Number) });
    if (bound.type !== 'registered') return;
    expect(bound.sessionId).not.toBe(plain.sessionId);
    expect(bound.resumeSecret.endsWith(`.${bound.expiresAt}`)).toBe(true);
  });

  it('refuses a malformed --expires before connecting', async () => {
    await expect(startAgent(server.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--expires', '2 hours'])).rejects.toThrow(
      /invalid --expires "2 hours"/,
    );
  });
});
