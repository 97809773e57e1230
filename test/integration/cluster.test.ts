/**
 * Several tunnel-server nodes sharing sessions through Redis (docs/architecture.md
 * §Scale), all real processes: redis-server, two `wingman-server` nodes,
 * the agent and the fixture app. A viewer may reach any node: traffic for a
 * session another node holds is forwarded there (HTTP, WebSocket, signaling
 * and so P2P), and an agent may resume its session on another node.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { download, send } from '../helpers/http-client';
import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, MAX_BUSY_RESUME_ATTEMPTS } from '../../packages/relay-server/src/agent/constants';
import { AGENT_READY_TIMEOUT_MS, killAll, runWingmanFetch, spawnedBy, startAgent, startServer, type Proc } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';
import { until, waitForEvent } from '../helpers/wait';

jest.setTimeout(90_000);

const MiB = 1024 * 1024;

type Node = { server: Proc; port: number; url: string };

/**
 * The file's cluster: one Redis, the fixture app and two nodes, started once. Every test uses sessions (and ids)
 * of its own, and what it starts besides is stopped after it. A test that counts Redis's commands or stops Redis
 * starts a cluster of its own (`ownCluster`): the file's nodes refresh the entries of earlier tests' sessions in the
 * file's Redis (a GET each, every few seconds).
 */
let redis: RedisProcess;
let app: FixtureApp;
let nodeA: Node;
let nodeB: Node;
/** Redis servers of the test's own cluster, stopped after it. */
const ownRedis: RedisProcess[] = [];
/** What the test that runs beside the others starts: spared by each test's cleanup. */
const besideOthers = new Set<Proc>();
let liveSessionKept: Promise<void>;

beforeAll(async () => {
  redis = await startRedis();
  app = await startFixtureApp();
  nodeA = await startServer({ REDIS_URL: redis.url });
  nodeB = await startServer({ REDIS_URL: redis.url });
  // A second agent refused as busy retries for about 15 s before it registers a session of its own: the test that
  // waits for that runs from here on, beside the others (on sessions of its own, on the file's nodes); it awaits it.
  liveSessionKept = spawnedBy(besideOthers, keepsALiveSessionToItsNode);
  liveSessionKept.catch(() => undefined);
});

afterEach(async () => {
  await killAll([nodeA.server, nodeB.server, ...besideOthers]);
  await Promise.all(ownRedis.splice(0).map((r) => r.stop()));
});

afterAll(async () => {
  await killAll();
  await app?.close();
  await redis?.stop();
});

/** A Redis and two nodes of the test's own, stopped after it. */
async function ownCluster(): Promise<{ redis: RedisProcess; nodeA: Node; nodeB: Node }> {
  const own = await startRedis();
  ownRedis.push(own);
  return { redis: own, nodeA: await startServer({ REDIS_URL: own.url }), nodeB: await startServer({ REDIS_URL: own.url }) };
}

/**
 * Counts the GET commands a client (not a Lua script: a node's periodic refresh reads its entries that way) sends for
 * `key` while the count runs: Redis's MONITOR stream. `stop()` first sees a marker command through the stream, so every
 * command sent before it is counted.
 */
async function countGets(url: string, key: string): Promise<{ stop(): Promise<number> }> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const monitor = await client.monitor();
  const marker = `wingman-test:marker:${process.pid}`;
  let gets = 0;
  let seen!: () => void;
  const markerSeen = new Promise<void>((resolve) => (seen = resolve));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args[1] === marker) seen();
    else if (args[0]?.toLowerCase() === 'get' && args[1] === key && source !== 'lua') gets++;
  });
  return {
    async stop() {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await probe.connect();
        await probe.exists(marker);
        await markerSeen;
        return gets;
      } finally {
        probe.disconnect();
        monitor.disconnect();
        client.disconnect();
      }
    },
  };
}

/** The session's host on node `port` (all nodes route `<id>.localhost`; ports are ignored in routing). */
const hostOn = (sessionId: string, port: number) => `${sessionId}.localhost:${port}`;

describe('a session held by node A, reached through node B', () => {
  it('serves GET, a POST body and a 20 MiB download with equal SHA-256 through B', async () => {
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p']);
    const viaB = hostOn(sessionId, nodeB.port);
    const hello = await send(nodeB.port, viaB, { path: '/hello' });
    expect(hello.status).toBe(200);
    expect(hello.body.toString()).toBe('hello GET');
    expect(hello.headers['x-wingman-transport']).toBe('relay');
    const echo = await send(nodeB.port, viaB, { method: 'POST', path: '/echo', body: Buffer.from('through two nodes') });
    expect(echo.body.toString()).toBe('through two nodes');
    const big = await download(nodeB.port, viaB, `/bytes?n=${20 * MiB}`);
    expect(big).toMatchObject({ status: 200, length: 20 * MiB, sha: patternSha256(20 * MiB) });
  });

  it("tells the app the viewer's address, not node B's hop, as the last X-Forwarded-For hop it saw", async () => {
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p']);
    const seen = JSON.parse((await send(nodeB.port, hostOn(sessionId, nodeB.port), { path: '/headers' })).body.toString()) as Record<string, string>;
    // Viewer (127.0.0.1) → B → A → agent: B records the viewer, A records B.
    expect(seen['x-forwarded-for']).toBe('127.0.0.1, 127.0.0.1');
    expect(seen['x-wingman-cluster-hop']).toBeUndefined();
  });

  it('carries a WebSocket through B', async () => {
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p']);
    const ws = new WebSocket(`ws://127.0.0.1:${nodeB.port}/ws`, { headers: { host: hostOn(sessionId, nodeB.port) } });
    ws.on('open', () => ws.send('hello through B'));
    const echoed = String(await waitForEvent(ws, 'message', { timeoutMs: 10_000, what: 'the echo through B', failOn: ['error'] }).then(([d]: [Buffer]) => d));
    expect(echoed).toBe('hello through B');
    ws.close();
  });

  it('signals through B, so P2P works from a viewer that reached B (wingman fetch)', async () => {
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session']);
    const r = await runWingmanFetch(['--p2p-only', `http://${hostOn(sessionId, nodeB.port)}/hello`]);
    expect(r).toMatchObject({ code: 0, out: 'hello GET' });
    expect(r.err).toMatch(/200 via p2p/);
  });

  it("applies the session's viewer password on the node that holds it", async () => {
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p', '--password', 'pw-cluster']);
    const viaB = hostOn(sessionId, nodeB.port);
    expect((await send(nodeB.port, viaB, { path: '/hello' })).status).toBe(401);
    const ok = await send(nodeB.port, viaB, { path: '/hello', headers: { authorization: `Basic ${Buffer.from(':pw-cluster').toString('base64')}` } });
    expect(ok.status).toBe(200);
  });

  it('counts wrong passwords per viewer on the owner node, by the address the forwarding node vouched for', async () => {
    // Both nodes behind one trusted reverse proxy: X-Forwarded-For's last entry is the viewer.
    const a = await startServer({ REDIS_URL: redis.url, TRUST_PROXY: '1' });
    const b = await startServer({ REDIS_URL: redis.url, TRUST_PROXY: '1' });
    const { sessionId } = await startAgent(a.url, String(app.port), {}, ['--new-session', '--no-p2p', '--password', 'pw-cluster']);
    const viaB = (xff: string, password: string) =>
      send(b.port, hostOn(sessionId, b.port), {
        path: '/hello',
        headers: { 'x-forwarded-for': xff, authorization: `Basic ${Buffer.from(`:${password}`).toString('base64')}` },
      });
    const stranger: number[] = [];
    for (let i = 0; i < 11; i++) stranger.push((await viaB('203.0.113.7', `guess-${i}`)).status);
    expect(stranger).toEqual([...Array<number>(10).fill(401), 429]);
    // Node A sees every forwarded request come from node B; the signed hop header names the viewer.
    expect((await viaB('198.51.100.9', 'pw-cluster')).status).toBe(200);
    // A viewer cannot vouch for itself: a hop header it made up is not honoured (and the request is not forwarded again).
    const forged = await send(a.port, hostOn(sessionId, a.port), {
      path: '/hello',
      headers: {
        'x-forwarded-for': '203.0.113.7',
        'x-wingman-cluster-hop': `1;for=192.0.2.1;sig=${'A'.repeat(43)}`,
        authorization: `Basic ${Buffer.from(':pw-cluster').toString('base64')}`,
      },
    });
    expect(forged.status).toBe(429);
  });

  it('looks the owner up in Redis about once a second, not once per forwarded request', async () => {
    const { redis, nodeA, nodeB } = await ownCluster();
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p']);
    const viaB = hostOn(sessionId, nodeB.port);
    expect((await send(nodeB.port, viaB, { path: '/hello' })).status).toBe(200);
    // The lookups of this session's entry; the nodes' own periodic reads (shared keys, their entries' refresh) are not lookups.
    const count = await countGets(redis.url, `wingman:session:${sessionId}`);
    const started = Date.now();
    for (let i = 0; i < 50; i++) expect((await send(nodeB.port, viaB, { path: '/hello' })).status).toBe(200);
    const seconds = (Date.now() - started) / 1000;
    const lookups = await count.stop();
    // One lookup per OWNER_CACHE_TTL_MS (1 s) at most, plus one for the window the loop started in.
    expect(lookups).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });

  it('answers 410 on every node for a session that reached its --expires deadline on one of them', async () => {
    const { agent, sessionId } = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: `/tmp/wingman-cluster-ended-${process.pid}` }, [
      '--new-session',
      '--no-p2p',
      '--expires',
      '1s',
    ]);
    await agent.waitFor((e) => e.event === 'fatal' && e.code === 'ERR_SESSION_EXPIRED', 15_000);
    // Node A records the end in Redis as it forgets the session: a bounded retry, nothing announces it to B.
    let status = 0;
    await until(
      async () => {
        status = (await send(nodeB.port, hostOn(sessionId, nodeB.port), { path: '/hello' })).status;
        return status === 410 || undefined;
      },
      { timeoutMs: 5_000, intervalMs: 100, what: 'node B to answer 410', observe: () => `status ${status}` },
    );
    const page = await send(nodeB.port, hostOn(sessionId, nodeB.port), { path: '/hello' });
    expect(page.status).toBe(410);
    expect(page.body.toString()).toContain('ERR_SESSION_EXPIRED');
    expect((await send(nodeA.port, hostOn(sessionId, nodeA.port), { path: '/hello' })).status).toBe(410);
  });

  it('answers 404 on every node for a session nobody holds', async () => {
    const unknown = 'a'.repeat(26);
    expect((await send(nodeB.port, hostOn(unknown, nodeB.port), { path: '/' })).status).toBe(404);
    expect((await send(nodeA.port, hostOn(unknown, nodeA.port), { path: '/' })).status).toBe(404);
  });
});

describe('an agent that moves to another node', () => {
  it("resumes its session (same id) on node B, and node A forwards the session's viewers there", async () => {
    const stateDir = `/tmp/wingman-cluster-${process.pid}`;
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', '--no-p2p']);
    await first.agent.kill();
    // Behind a load balancer both nodes share one --server URL, so the agent's
    // saved session (keyed by server URL) applies on either; here the nodes
    // have their own ports, so point the saved entry at node B.
    const file = join(stateDir, 'sessions.json');
    writeFileSync(file, readFileSync(file, 'utf8').split(`:${nodeA.port} `).join(`:${nodeB.port} `));
    const moved = await startAgent(nodeB.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p']);
    expect(moved.sessionId).toBe(first.sessionId);
    const ready = await moved.agent.waitFor((e) => e.event === 'ready');
    expect(ready.resumed).toBe(true);
    // Node A still holds the session in its grace period; the directory says B has it now.
    const viaA = await send(nodeA.port, hostOn(first.sessionId, nodeA.port), { path: '/hello' });
    expect(viaA.status).toBe(200);
    expect(viaA.body.toString()).toBe('hello GET');
  });

  it('keeps the deadline of an --expires session that moves to node B, even when the agent there runs without --expires', async () => {
    const stateDir = `/tmp/wingman-cluster-expiry-${process.pid}`;
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', '--no-p2p', '--expires', '60s']);
    const deadline = first.agent.events.find((e) => e.event === 'ready')!.expiresAt;
    expect(deadline).toEqual(expect.any(String));
    await first.agent.kill();
    const file = join(stateDir, 'sessions.json');
    writeFileSync(file, readFileSync(file, 'utf8').split(`:${nodeA.port} `).join(`:${nodeB.port} `));
    const moved = await startAgent(nodeB.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p']);
    expect(moved.sessionId).toBe(first.sessionId);
    expect(moved.agent.events.find((e) => e.event === 'ready')).toMatchObject({ resumed: true, expiresAt: deadline });
  });

  it("answers a forwarded request for a session it no longer holds with a retrying 503, not a 404 (the sender's view was stale)", async () => {
    // What node B sends when it still remembers (for up to a second) that this node held the session.
    const gone = 'b'.repeat(26);
    const r = await send(nodeA.port, hostOn(gone, nodeA.port), { path: '/hello', headers: { 'x-wingman-cluster-hop': '1' } });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('2');
    expect(r.body.toString()).toContain('ERR_SESSION_MOVING');
    // A viewer's own request for that id still gets the plain 404.
    expect((await send(nodeA.port, hostOn(gone, nodeA.port), { path: '/hello' })).status).toBe(404);
  });

  it("keeps a viewer's access cookie valid after a password-protected session moves: no second password prompt", async () => {
    const stateDir = `/tmp/wingman-cluster-access-${process.pid}`;
    const args = ['--no-p2p', '--password', 'pw-moving'];
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', ...args]);
    const basic = { authorization: `Basic ${Buffer.from(':pw-moving').toString('base64')}` };
    const earned = await send(nodeA.port, hostOn(first.sessionId, nodeA.port), { path: '/hello', headers: basic });
    expect(earned.status).toBe(200);
    const cookie = ([] as string[])
      .concat(earned.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('wingman_access='))
      ?.split(';')[0];
    expect(cookie).toMatch(/^wingman_access=[A-Za-z0-9_-]{43}$/);
    await first.agent.kill();
    const file = join(stateDir, 'sessions.json');
    writeFileSync(file, readFileSync(file, 'utf8').split(`:${nodeA.port} `).join(`:${nodeB.port} `));
    const moved = await startAgent(nodeB.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, args);
    expect(moved.sessionId).toBe(first.sessionId);
    // Node B holds the session now and checks access itself, with the key node A signed the cookie with.
    for (const port of [nodeB.port, nodeA.port]) {
      const withCookie = await send(port, hostOn(first.sessionId, port), { path: '/hello', headers: { cookie: cookie! } });
      expect(withCookie.status).toBe(200);
      expect(withCookie.body.toString()).toBe('hello GET');
    }
    // A forged cookie still gets the challenge.
    const forged = await send(nodeB.port, hostOn(first.sessionId, nodeB.port), { path: '/hello', headers: { cookie: `wingman_access=${'A'.repeat(43)}` } });
    expect(forged.status).toBe(401);
  });

  it('keeps a live session to its node: a second agent with the secret is refused while the first is connected', () => liveSessionKept);
});

describe('when Redis goes away', () => {
  it('keeps serving sessions a node holds itself, and answers 503 for the others', async () => {
    const { redis, nodeA, nodeB } = await ownCluster();
    const { sessionId } = await startAgent(nodeA.url, String(app.port), {}, ['--new-session', '--no-p2p']);
    await redis.stop();
    expect((await send(nodeA.port, hostOn(sessionId, nodeA.port), { path: '/hello' })).status).toBe(200);
    const viaB = await send(nodeB.port, hostOn(sessionId, nodeB.port), { path: '/hello' });
    expect(viaB.status).toBe(503);
    expect(viaB.body.toString()).toContain('ERR_DIRECTORY_UNAVAILABLE');
  });
});

/**
 * How long an agent whose resume is refused as busy may take to register a new session: its busy retries' longest
 * backoff (MAX_BUSY_RESUME_ATTEMPTS delays, each at most BACKOFF_INITIAL_MS doubled per attempt, before jitter), plus
 * the start of any agent.
 */
const BUSY_RESUMES_DEADLINE_MS =
  Array.from({ length: MAX_BUSY_RESUME_ATTEMPTS }, (_, i) => Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * 2 ** i)).reduce((a, b) => a + b, 0) +
  AGENT_READY_TIMEOUT_MS;

/** The test 'keeps a live session to its node' (it runs from beforeAll on, see there). */
async function keepsALiveSessionToItsNode(): Promise<void> {
  const stateDir = `/tmp/wingman-cluster-busy-${process.pid}`;
  const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', '--no-p2p']);
  // The same saved session, presented to node B (see 'resumes its session (same id) on node B' for why the file is edited).
  const file = join(stateDir, 'sessions.json');
  writeFileSync(file, readFileSync(file, 'utf8').split(`:${nodeA.port} `).join(`:${nodeB.port} `));
  const second = await startAgent(nodeB.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p'], { readyTimeoutMs: BUSY_RESUMES_DEADLINE_MS });
  // Refused as in use (node A's agent is connected), the second agent gives up on it and registers a new session.
  expect(second.agent.stderr()).toMatch(/ERR_SESSION_IN_USE: session [a-z2-7]{26} already has a connected agent \(on another node\)/);
  expect(second.sessionId).not.toBe(first.sessionId);
  const viaB = await send(nodeB.port, hostOn(first.sessionId, nodeB.port), { path: '/hello' });
  expect(viaB.status).toBe(200);
}
