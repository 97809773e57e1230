/**
 * Stable names in a cluster, all real processes (two nodes, a real
 * redis-server): the name a token took on one node is refused to another
 * token on every node, its agent is refused on a second node while the first
 * serves it, and the name outlives the nodes: kept in Redis without expiry,
 * a node started afterwards allows its certificate and gives it back to its
 * token's agent.
 */
import Redis from 'ioredis';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { AGENT_BIN, killAll, spawnedBy, startAgent, startProcess, startServer, type Proc } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';

jest.setTimeout(120_000);

const TOKEN_A = 'token-of-alice-0001';
const TOKEN_B = 'token-of-bob-000002';
/** A refused agent exits within its busy retries (about 15 s); generous for a loaded machine. */
const EXIT_TIMEOUT_MS = 45_000;

let redis: RedisProcess;
let app: FixtureApp;

/** Where a test's processes run: its Redis (the cluster's), and the fixture app they serve. */
interface Place {
  redis: RedisProcess;
  app: FixtureApp;
}
/** The current test's place. */
const here = (): Place => ({ redis, app });

/**
 * An agent of the token serving a name, started on a second node, is refused only after its busy retries (about
 * 15 s): the test that waits for that runs from beforeAll on, beside the others, in a place of its own (its own Redis,
 * so its own cluster); its test awaits it.
 */
let beside: Place | undefined;
const besideOthers = new Set<Proc>();
let nameRefused: Promise<void>;

beforeAll(async () => {
  beside = { redis: await startRedis(), app: await startFixtureApp() };
  nameRefused = spawnedBy(besideOthers, () => refusesTheName(beside!));
  nameRefused.catch(() => undefined);
});

afterAll(async () => {
  await killAll();
  await beside?.app.close();
  await beside?.redis.stop();
});

beforeEach(async () => {
  redis = await startRedis();
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll([...besideOthers]);
  await app.close();
  await redis.stop();
});

const node = (at = here()) => startServer({ REDIS_URL: at.redis.url, WINGMAN_TOKENS: `${TOKEN_A},${TOKEN_B}` });

async function refused(serverUrl: string, token: string, name: string, at = here()): Promise<{ code: string; message: string }> {
  const proc = startProcess(AGENT_BIN, ['http', String(at.app.port), '--server', serverUrl, '--json', '--inspect', 'false', '--token', token, '--name', name]);
  const fatal = await proc.waitForEvent('fatal', EXIT_TIMEOUT_MS);
  return { code: String(fatal.code), message: String(fatal.message) };
}

async function redisGet(key: string): Promise<{ value: string | null; ttl: number }> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return { value: await client.get(key), ttl: await client.pttl(key) };
  } finally {
    client.disconnect();
  }
}

describe('stable names in a cluster', () => {
  it("lets one token's two agents started at once on two nodes with two names serve one name, and keeps that one the token's", async () => {
    const a = await node();
    const b = await node();
    const args = (name: string) => ['http', String(app.port), '--json', '--inspect', 'false', '--no-p2p', '--token', TOKEN_A, '--name', name];
    const shop = startProcess(AGENT_BIN, [...args('shop'), '--server', a.url]);
    const cart = startProcess(AGENT_BIN, [...args('cart'), '--server', b.url]);
    const outcome = async (p: typeof shop) => p.waitFor((e) => e.event === 'ready' || e.event === 'fatal', EXIT_TIMEOUT_MS);
    const [first, second] = await Promise.all([outcome(shop), outcome(cart)]);
    const events = [first, second].map((e) => e.event).sort();
    expect(events).toEqual(['fatal', 'ready']);
    const served = first.event === 'ready' ? 'shop' : 'cart';
    expect([first, second].find((e) => e.event === 'fatal')).toMatchObject({ code: 'ERR_NAME_LIMIT' });
    expect((await redisGet(`wingman:name:${served}`)).value).toMatch(/^[0-9a-f]{64}$/);
    expect((await redisGet(`wingman:name:${served === 'shop' ? 'cart' : 'shop'}`)).value).toBeNull();
  });

  it('keeps the name in Redis without expiry: a node started after the others stopped allows its certificate and gives it back to its token only', async () => {
    const a = await node();
    const shop = await startAgent(a.url, String(app.port), {}, ['--token', TOKEN_A, '--name', 'shop', '--no-p2p']);
    await shop.agent.kill();
    await a.server.kill();
    const stored = await redisGet('wingman:name:shop');
    expect(stored.value).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.ttl).toBe(-1);

    const c = await node();
    const ask = await send(c.port, `localhost:${c.port}`, { path: '/__wingman/tls-ask?domain=shop.localhost' });
    expect(ask.status).toBe(200);
    expect(await refused(c.url, TOKEN_B, 'shop')).toMatchObject({ code: 'ERR_NAME_TAKEN' });
    const back = await startAgent(c.url, String(app.port), {}, ['--token', TOKEN_A, '--name', 'shop', '--no-p2p']);
    expect(back.url).toBe(`http://shop.localhost:${c.port}/`);
    expect((await send(c.port, `shop.localhost:${c.port}`, { path: '/hello' })).body.toString()).toBe('hello GET');
  });

  it("refuses a token's name to another token on every node, and its own second agent on another node while the first serves it", () => nameRefused);
});

/** The test "refuses a token's name to another token on every node …" in place `at` (it runs from beforeAll on, see there). */
async function refusesTheName(at: Place): Promise<void> {
  const a = await node(at);
  const b = await node(at);
  const shop = await startAgent(a.url, String(at.app.port), {}, ['--token', TOKEN_A, '--name', 'shop', '--no-p2p']);
  expect(shop.url).toBe(`http://shop.localhost:${a.port}/`);
  // Node b forwards the name's requests to node a, which holds its agent.
  expect((await send(b.port, `shop.localhost:${b.port}`, { path: '/hello' })).body.toString()).toBe('hello GET');
  expect(await refused(b.url, TOKEN_B, 'shop', at)).toMatchObject({ code: 'ERR_NAME_TAKEN' });
  expect(await refused(b.url, TOKEN_A, 'shop', at)).toEqual({
    code: 'ERR_SESSION_IN_USE',
    message: 'the name "shop" already has a connected agent (on another node)',
  });
}
