/**
 * A hostile agent's Content-Length mismatch, seen by a viewer of another
 * cluster node: the owner node enforces the length, and the forwarding node
 * (cluster/node-forward.ts) must not leave its viewer waiting for bytes the
 * owner will never send, nor pass anything past the declared body on.
 * Real redis-server, two in-process tunnel-server nodes, a raw viewer socket.
 */
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { exchange, get, hostile, responses } from '../../packages/tunnel-server/test/integration/helpers/hostile-agent';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from '../../packages/tunnel-server/test/integration/helpers/test-agent';
import { startRedis, type RedisProcess } from '../helpers/redis';

jest.setTimeout(60_000);

let redis: RedisProcess;
let nodeA: TunnelServer;
let nodeB: TunnelServer;
let agent: TestAgent;
/** The session's host as a viewer of node B names it. */
let viaB: string;

beforeEach(async () => {
  redis = await startRedis();
  nodeA = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', redisUrl: redis.url });
  nodeB = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', redisUrl: redis.url });
  agent = await connectTestAgent(nodeA.port, hostile);
  viaB = `${agent.sessionId}.localhost:${nodeB.port}`;
});

afterEach(async () => {
  closeAllAgents();
  await nodeB.close();
  await nodeA.close();
  await redis.stop();
});

describe('a Content-Length mismatch through a forwarding cluster node', () => {
  it('closes the viewer connection of a body shorter than declared instead of leaving it waiting', async () => {
    const r = await exchange(nodeB.port, [get(viaB, '/short')], 0, 5_000);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.bytes.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('gives the viewer exactly the declared bytes and nothing of the excess on its next request', async () => {
    const r = await exchange(nodeB.port, [get(viaB, '/excess'), get(viaB, '/ok')], 300, 2_000);
    expect(r.bytes).not.toContain('hijack');
    expect(responses(r.bytes).map((p) => p.body)).toEqual(r.closedByServer ? ['hello'] : ['hello', 'ok']);
  });
});
