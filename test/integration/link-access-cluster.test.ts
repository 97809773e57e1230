/**
 * Link access in a cluster (REDIS_URL, docs/PROTOCOL.md §Link access): the
 * node that holds the session's agent decides, whichever node a viewer comes
 * through; the link cookie earned through one node opens the session through
 * every node (it is an HMAC under the cluster's shared key). Real
 * redis-server, two tunnel-server nodes, agent, app.
 */
import { createHmac } from 'node:crypto';
import { LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, linkKeyBytes, splitLinkKey } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, LINK_ONLY_AGENT_ENV, startAgent, startServer } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';
import { upgradeStatus } from '../helpers/viewer-client';

jest.setTimeout(90_000);

let redis: RedisProcess;
let app: FixtureApp;

beforeEach(async () => {
  redis = await startRedis();
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
  await redis.stop();
});

describe('link access across cluster nodes', () => {
  it('refuses the host alone through a forwarding node, and a cookie earned through one node opens the session through both', async () => {
    const a = await startServer({ REDIS_URL: redis.url });
    const b = await startServer({ REDIS_URL: redis.url });
    const { link, sessionId } = await startAgent(a.url, String(app.port), { ...LINK_ONLY_AGENT_ENV }, ['--new-session', '--no-p2p', '--inspect', 'false']);
    const token = createHmac('sha256', linkKeyBytes(splitLinkKey(new URL(link).hash).key!)!)
      .update(LINK_ACCESS_LABEL)
      .digest('base64url');
    const viaA = `${sessionId}.localhost:${a.port}`;
    const viaB = `${sessionId}.localhost:${b.port}`;

    expect((await send(b.port, viaB, { path: '/hello' })).status).toBe(403);
    expect(await upgradeStatus(b.port, viaB, '/ws')).toBe(403);
    const exchange = await send(b.port, viaB, { method: 'POST', path: LINK_PATH, headers: { [LINK_TOKEN_HEADER]: token } });
    expect(exchange.status).toBe(204);
    const cookie = (exchange.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith('wingman_link='))!;
    expect((await send(b.port, viaB, { path: '/hello', headers: { cookie } })).body.toString()).toBe('hello GET');
    expect((await send(a.port, viaA, { path: '/hello', headers: { cookie } })).body.toString()).toBe('hello GET');
  });
});
