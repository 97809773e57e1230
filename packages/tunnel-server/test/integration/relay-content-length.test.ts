/**
 * A hostile agent whose body disagrees with its own Content-Length, seen by
 * a viewer over one real keep-alive TCP connection: the relay must deliver
 * exactly the declared bytes and close that connection, so excess bytes can
 * never become the answer to the viewer's next request.
 */
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { exchange, get, hostile, responses } from './helpers/hostile-agent';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';

jest.setTimeout(30_000);

let server: TunnelServer;
let agent: TestAgent;

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent' });
  agent = await connectTestAgent(server.port, hostile);
});

afterEach(async () => {
  closeAllAgents();
  await server.close();
});

describe("relay enforces the agent's Content-Length on the viewer's connection", () => {
  it('delivers exactly the declared 5 bytes of a 50-byte body and closes the keep-alive connection before the next request', async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess'), get(agent.host, '/ok')], 300);
    expect(r.closedByServer).toBe(true);
    const parsed = responses(r.bytes);
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(parsed[0]!.body).toBe('hello');
    expect(r.bytes).not.toContain('hijack');
    expect(r.bytes.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it("gives a pipelined second request nothing of the first response's excess", async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess') + get(agent.host, '/ok')]);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).not.toContain('hijack');
    const parsed = responses(r.bytes);
    expect(parsed[0]!.body).toBe('hello');
    // Whatever else came is a genuine answer to /ok, never the smuggled one.
    for (const p of parsed.slice(1)) expect(p.body).toBe('ok');
  });

  it('drops excess that arrives in a later chunk and closes the connection', async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess-late'), get(agent.host, '/ok')], 300);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).not.toContain('hijack');
    expect(responses(r.bytes).map((p) => p.body)).toEqual(['hello']);
  });

  it('closes the connection when the body is shorter than declared, instead of leaving the viewer waiting', async () => {
    const r = await exchange(server.port, [get(agent.host, '/short')]);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.bytes.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('answers 502 to conflicting Content-Length values', async () => {
    const r = await exchange(server.port, [get(agent.host, '/conflict')], 0, 1_000);
    expect(r.bytes).toMatch(/^HTTP\/1\.1 502 /);
    expect(r.bytes).not.toContain('hello!');
  });

  it('keeps the connection open across honest responses', async () => {
    const r = await exchange(server.port, [get(agent.host, '/ok'), get(agent.host, '/ok')], 200, 1_000);
    expect(r.closedByServer).toBe(false);
    expect(responses(r.bytes).map((p) => p.body)).toEqual(['ok', 'ok']);
  });
});
