/**
 * A cluster that loses a part and gets it back, all real processes: Redis
 * restarted without persistence (the shared keys and the directory vanish),
 * a node killed and started again on the same URL (its sessions' directory
 * entries outlive it). Sessions keep their URLs and viewers their access.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, startAgent, startServer, type Proc } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';
import { until } from '../helpers/wait';

jest.setTimeout(90_000);

const SHARED_KEYS = ['wingman:secret:access-cookie', 'wingman:secret:cluster-hop', 'wingman:secret:session-id'];

let redis: RedisProcess;
let app: FixtureApp;
let stateDir: string;

beforeEach(async () => {
  redis = await startRedis();
  app = await startFixtureApp();
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-cluster-restarts-'));
});

afterEach(async () => {
  await killAll();
  await app.close();
  await redis.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function withRedis<T>(url: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

/** Polls `read` every 200 ms until it returns a value, for at most `timeoutMs` (state in redis and on other nodes: no event reaches the test). */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const found = await until(
    async () => {
      const value = await read();
      return value === undefined ? undefined : { value };
    },
    { timeoutMs, intervalMs: 200, what },
  );
  return found.value;
}

const hostOn = (sessionId: string, port: number) => `${sessionId}.localhost:${port}`;
const basic = (pw: string) => ({ authorization: `Basic ${Buffer.from(`:${pw}`).toString('base64')}` });

/** Points the agent's saved session (keyed by server URL) at another node, as a load balancer in front of both would. */
function moveSavedSession(fromPort: number, toPort: number): void {
  const file = join(stateDir, 'sessions.json');
  writeFileSync(file, readFileSync(file, 'utf8').split(`:${fromPort} `).join(`:${toPort} `));
}

const nextReady = (agent: Proc, count: number) =>
  agent.waitFor((e) => e.event === 'ready' && agent.events.filter((x) => x.event === 'ready').indexOf(e) >= count, 45_000);

describe('Redis restarted without persistence', () => {
  it("gets the shared keys back from the nodes, so a node started afterwards shares them and a viewer's access cookie survives the session moving there", async () => {
    const nodeA = await startServer({ REDIS_URL: redis.url });
    await startServer({ REDIS_URL: redis.url });
    const args = ['--no-p2p', '--password', 'pw-restart'];
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', ...args]);
    const earned = await send(nodeA.port, hostOn(first.sessionId, nodeA.port), { path: '/hello', headers: basic('pw-restart') });
    const cookie = ([] as string[])
      .concat(earned.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('wingman_access='))
      ?.split(';')[0];
    expect(cookie).toMatch(/^wingman_access=[A-Za-z0-9_-]{43}$/);
    const before = await withRedis(redis.url, (r) => r.mget(...SHARED_KEYS));
    expect(before.every((v) => typeof v === 'string')).toBe(true);

    const port = Number(new URL(redis.url).port);
    const runId = (r: Redis) => r.info('server').then((info) => /run_id:(\w+)/.exec(info)?.[1]);
    const firstRun = await withRedis(redis.url, runId);
    await redis.stop();
    redis = await startRedis({ port });
    // A new Redis process that keeps nothing across restarts: it started empty. (Not read from
    // its key count: the nodes may have put their keys back before the test looks.)
    const restarted = await withRedis(redis.url, async (r) => ({
      newProcess: (await runId(r)) !== firstRun,
      save: await r.config('GET', 'save'),
      appendonly: await r.config('GET', 'appendonly'),
    }));
    expect(restarted).toEqual({ newProcess: true, save: ['save', ''], appendonly: ['appendonly', 'no'] });
    const after = await eventually(
      () =>
        withRedis(redis.url, async (r) => {
          const v = await r.mget(...SHARED_KEYS);
          return v.every((x) => x !== null) ? v : undefined;
        }),
      'the shared keys back in Redis',
    );
    expect(after).toEqual(before);

    // A node that joins now uses the same keys: the session moves to it and the cookie still opens it.
    const nodeC = await startServer({ REDIS_URL: redis.url });
    await first.agent.kill();
    moveSavedSession(nodeA.port, nodeC.port);
    const moved = await startAgent(nodeC.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, args);
    expect(moved.sessionId).toBe(first.sessionId);
    const withCookie = await send(nodeC.port, hostOn(first.sessionId, nodeC.port), { path: '/hello', headers: { cookie: cookie! } });
    expect(withCookie.status).toBe(200);
    expect(withCookie.body.toString()).toBe('hello GET');
  });
});

describe('nodes configured with WINGMAN_CLUSTER_SECRET', () => {
  it('keep no keys in Redis, and a node started while Redis is empty after a restart still opens a session with a cookie earned on another node', async () => {
    const secret = { WINGMAN_CLUSTER_SECRET: 'a-cluster-secret-of-at-least-32-characters' };
    const nodeA = await startServer({ REDIS_URL: redis.url, ...secret });
    const args = ['--no-p2p', '--password', 'pw-configured'];
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', ...args]);
    const earned = await send(nodeA.port, hostOn(first.sessionId, nodeA.port), { path: '/hello', headers: basic('pw-configured') });
    const cookie = ([] as string[])
      .concat(earned.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('wingman_access='))
      ?.split(';')[0];
    expect(cookie).toMatch(/^wingman_access=/);
    expect(await withRedis(redis.url, (r) => r.keys('wingman:secret:*'))).toEqual([]);

    const port = Number(new URL(redis.url).port);
    await redis.stop();
    redis = await startRedis({ port });
    // Node C starts at once, before node A could write anything back.
    const nodeC = await startServer({ REDIS_URL: redis.url, ...secret });
    await first.agent.kill();
    moveSavedSession(nodeA.port, nodeC.port);
    const moved = await startAgent(nodeC.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, args);
    expect(moved.sessionId).toBe(first.sessionId);
    expect((await send(nodeC.port, hostOn(first.sessionId, nodeC.port), { path: '/hello', headers: { cookie: cookie! } })).status).toBe(200);
  });
});

describe('a node killed and started again on the same URL', () => {
  it('gives its reconnecting agent the same session back, which viewers reach through the other node', async () => {
    const nodeA = await startServer({ REDIS_URL: redis.url });
    const nodeB = await startServer({ REDIS_URL: redis.url });
    const { agent, sessionId } = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', '--no-p2p']);
    await nodeA.server.kill('SIGKILL');
    await startServer({ REDIS_URL: redis.url }, ['--port', String(nodeA.port)]);
    expect(await nextReady(agent, 1)).toMatchObject({ sessionId, resumed: true });
    const viaB = await send(nodeB.port, hostOn(sessionId, nodeB.port), { path: '/hello' });
    expect(viaB.status).toBe(200);
    expect(viaB.body.toString()).toBe('hello GET');
  });

  it('marks the sessions of its previous run agent-less, so viewers get a retrying page (not a 404) and the agent resumes on the other node without being refused as in use', async () => {
    const nodeA = await startServer({ REDIS_URL: redis.url });
    const nodeB = await startServer({ REDIS_URL: redis.url });
    const first = await startAgent(nodeA.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--new-session', '--no-p2p']);
    const entry = () =>
      withRedis(redis.url, async (r) => JSON.parse((await r.get(`wingman:session:${first.sessionId}`)) ?? 'null') as { node: string; live: boolean } | null);
    expect(await entry()).toMatchObject({ live: true });
    // The node dies with its agent connected; the agent is stopped before the node is back.
    await nodeA.server.kill('SIGKILL');
    await first.agent.kill('SIGKILL');
    const restarted = await startServer({ REDIS_URL: redis.url }, ['--port', String(nodeA.port)]);
    expect(await entry()).toMatchObject({ node: `http://127.0.0.1:${nodeA.port}`, live: false });

    const direct = await send(restarted.port, hostOn(first.sessionId, restarted.port), { path: '/hello' });
    expect(direct.status).toBe(502);
    expect(direct.body.toString()).toContain('ERR_AGENT_DISCONNECTED');
    const forwarded = await send(nodeB.port, hostOn(first.sessionId, nodeB.port), { path: '/hello' });
    expect(forwarded.status).toBe(503);
    expect(forwarded.headers['retry-after']).toBeDefined();

    moveSavedSession(nodeA.port, nodeB.port);
    const moved = await startAgent(nodeB.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--no-p2p']);
    expect(moved.sessionId).toBe(first.sessionId);
    expect(moved.agent.stderr()).not.toMatch(/IN_USE/);
    for (const port of [nodeB.port, restarted.port]) {
      const r = await send(port, hostOn(first.sessionId, port), { path: '/hello' });
      expect(r.status).toBe(200);
    }
  });
});
