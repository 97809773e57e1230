/**
 * Viewer identity in a cluster (REDIS_URL): a viewer that reaches the
 * session through another node than the one holding its agent is the same
 * viewer there (the cookie verifies on every node), and the holding node's
 * decisions apply to it through the forwarding node. Real redis-server, two
 * tunnel-server nodes, agent, app.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, startAgent, startServer } from '../helpers/processes';
import { startRedis, type RedisProcess } from '../helpers/redis';
import { inspectorApi, inspectorPortOf, newViewer, untilTrue, viewerStateOf } from '../helpers/viewer-client';

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
