/**
 * Viewer identity and link access in a cluster (REDIS_URL): a viewer that
 * reaches the session through another node than the one holding its agent
 * is the same viewer there (the cookie verifies on every node), and the
 * holding node's decisions apply to it through the forwarding node. The
 * holding node also decides link access (docs/PROTOCOL.md §Link access),
 * and a link cookie earned through one node opens the session through every
 * node (an HMAC under the cluster's shared key). Real redis-server, two
 * tunnel-server nodes, agent, app.
 */
import { createHmac } from 'node:crypto';
import { LINK_ACCESS_LABEL, LINK_PATH, LINK_TOKEN_HEADER, linkKeyBytes, splitLinkKey } from '@wingman/protocol';
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
