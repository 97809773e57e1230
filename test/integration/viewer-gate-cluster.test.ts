/**
 * Viewer identity and link access in a cluster (REDIS_URL): a viewer that
 * reaches the session through another node than the one holding its agent
 * is the same viewer there (the cookie verifies on every node), and the
 * holding node's decisions apply to it through the forwarding node. The
 * holding node also decides link access (docs/PROTOCOL.md §Link access),
 * and a link cookie earned through one node opens the session through every
 * node (an HMAC under the cluster's shared key). Address rules are judged by
 * the holding node on the address the forwarding node saw and vouched for
 * (the signed hop header). Real redis-server, two tunnel-server nodes, agent,
 * app; viewers bind 127.0.0.2 or 127.0.0.3 to come from different addresses.
 */
import { createHmac } from 'node:crypto';
import { LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, linkKeyBytes, SIGNAL_PATH, splitLinkKey } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, LINK_ONLY_AGENT_ENV, startAgent, startServer } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';
import { inspectorApi, inspectorPortOf, newViewer, untilTrue, upgradeStatus, viewerStateOf } from '../helpers/viewer-client';

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

describe('viewer identity across cluster nodes', () => {
  it('holds a viewer that comes through a forwarding node until admitted, and refuses it there once revoked', async () => {
    const a = await startServer({ REDIS_URL: redis.url });
    const b = await startServer({ REDIS_URL: redis.url });
    const { agent, sessionId } = await startAgent(a.url, String(app.port), {}, ['--new-session', '--no-p2p', '--inspect', '0', '--approve']);
    const inspector = inspectorPortOf(agent);
    const viaB = `${sessionId}.localhost:${b.port}`;
    const viaA = `${sessionId}.localhost:${a.port}`;

    const v = await newViewer(b.port, viaB);
    expect((await v.get('/hello')).status).toBe(403);
    await untilTrue('the viewer waiting in the inspector', async () => (await viewerStateOf(inspector, v.id)) === 'waiting');
    expect((await inspectorApi(inspector, `/api/viewers/${v.id}/admit`, 'POST')).status).toBe(202);
    await untilTrue('the admission through B', async () => (await v.get('/hello')).status === 200);
    // The same cookie is the same viewer on the node that holds the session.
    const direct = await newViewer(a.port, viaA);
    expect(direct.id).not.toBe(v.id);
    expect((await send(a.port, viaA, { path: '/hello', headers: { cookie: v.cookie } })).status).toBe(200);

    expect((await inspectorApi(inspector, `/api/viewers/${v.id}/revoke`, 'POST')).status).toBe(202);
    await untilTrue('the revocation through B', async () => (await v.get('/hello')).status === 403);
    expect(await v.upgrade('/ws')).toBe(403);
  });
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

describe('address rules across cluster nodes', () => {
  it('judge a viewer that comes through a forwarding node by the address that node saw, not by one it wrote', async () => {
    const a = await startServer({ REDIS_URL: redis.url });
    const b = await startServer({ REDIS_URL: redis.url });
    const { sessionId } = await startAgent(a.url, String(app.port), {}, ['--new-session', '--inspect', 'false', '--allow-ip', '127.0.0.2']);
    const viaB = `${sessionId}.localhost:${b.port}`;

    expect((await send(b.port, viaB, { path: '/hello', localAddress: '127.0.0.2' })).body.toString()).toBe('hello GET');
    const refused = await send(b.port, viaB, { path: '/hello', localAddress: '127.0.0.3', headers: { 'x-forwarded-for': '127.0.0.2' } });
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toContain('coming from 127.0.0.3');
    expect(refused.body.toString()).toContain('ERR_ADDRESS_REFUSED');
    expect(await upgradeStatus(b.port, viaB, SIGNAL_PATH, {}, '127.0.0.2')).toBe(101);
    expect(await upgradeStatus(b.port, viaB, SIGNAL_PATH, {}, '127.0.0.3')).toBe(403);
  });
});
