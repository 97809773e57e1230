/** Agent registration, resume, refusals and isolation, against a real tunnel server. */
import { encodeFrame, SESSION_ID_PATTERN } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { createFixture } from './helpers/fixture-handler';
import { eventually, send } from './helpers/http-client';
import { closeAllAgents, closeSocket, connectTestAgent, openAgentSocket, register, TEST_TOKEN, waitClosed } from './helpers/test-agent';

jest.setTimeout(30_000);

let server: TunnelServer;

async function start(options: Parameters<typeof createTunnelServer>[0] = {}): Promise<TunnelServer> {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', ...options });
  return server;
}

afterEach(async () => {
  closeAllAgents();
  await server?.close();
});

describe('agent endpoint', () => {
  it('refuses a wrong or missing token with 401 and a one-line reason, before the upgrade', async () => {
    await start();
    for (const token of ['wrong-token-123456', null]) {
      const err = await openAgentSocket(server.port, token).then(
        () => undefined,
        (e: { status: number; body: string }) => e,
      );
      expect(err?.status).toBe(401);
      expect(err?.body.trim().split('\n')).toHaveLength(1);
      expect(err?.body).toMatch(/refused the agent token/);
    }
  });

  it('registers a session with a 130-bit DNS-label id, its URL and P2P settings', async () => {
    await start({ p2p: { stunServers: ['stun:127.0.0.1:3478'], turnUrls: ['turn:127.0.0.1:3478'], turnSecret: 's3cret' } });
    const agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
    const r = agent.registered;
    expect(r.sessionId).toMatch(SESSION_ID_PATTERN);
    expect(r.url).toBe(`http://${r.sessionId}.localhost:${server.port}/`);
    expect(r.resumed).toBe(false);
    expect(r.graceMs).toBe(30_000);
    expect(r.p2p.enabled).toBe(true);
    expect(r.p2p.iceServers[0]).toEqual({ urls: ['stun:127.0.0.1:3478'] });
    expect(r.p2p.iceServers[1]!.username).toMatch(new RegExp(`^\\d+:${r.sessionId}\\.agent$`));
  });

  it('gives the same session back to an agent that resumes within the grace period', async () => {
    await start();
    const fixture = createFixture();
    const first = await connectTestAgent(server.port, fixture.handler);
    const { sessionId, resumeSecret } = first.registered;
    await first.close();
    const gone = await eventually(async () => {
      const r = await send(server.port, first.host, { path: '/hello' });
      return r.status === 502 ? r : undefined;
    }, 'the 502 page');
    expect(gone.headers['retry-after']).toBe('2');
    expect(gone.headers['content-type']).toMatch(/text\/html/);
    expect(gone.body.toString()).toContain('<meta http-equiv="refresh" content="2">');

    const again = await connectTestAgent(server.port, fixture.handler, { resume: { sessionId, resumeSecret } });
    expect(again.registered.sessionId).toBe(sessionId);
    expect(again.registered.resumed).toBe(true);
    const r = await send(server.port, again.host, { path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET');
  });

  it('gives a fresh session for an unknown session or a wrong resume secret', async () => {
    await start();
    const first = await connectTestAgent(server.port, createFixture().handler);
    await first.close();
    const wrong = await connectTestAgent(server.port, createFixture().handler, { resume: { sessionId: first.sessionId, resumeSecret: 'not-the-secret' } });
    expect(wrong.registered.resumed).toBe(false);
    expect(wrong.sessionId).not.toBe(first.sessionId);
  });

  it('drops a session whose agent does not come back within the grace period: its link says the developer stopped sharing', async () => {
    await start({ sessionGraceMs: 50 });
    const agent = await connectTestAgent(server.port, createFixture().handler);
    await agent.close();
    const r = await eventually(async () => {
      const reply = await send(server.port, agent.host, { path: '/' });
      return reply.status === 503 ? reply : undefined;
    }, 'the session to expire');
    expect(r.body.toString()).toContain(`Wingman session ${agent.sessionId} is not being shared right now`);
    expect(r.body.toString()).toContain('ERR_SESSION_STOPPED');
  });

  it('refuses a second agent for a live session', async () => {
    await start();
    const first = await connectTestAgent(server.port, createFixture().handler);
    const ws = await openAgentSocket(server.port);
    const { message } = await register(ws, { resume: { sessionId: first.sessionId, resumeSecret: first.registered.resumeSecret } }, () => undefined);
    expect(message).toMatchObject({ type: 'error', code: 'ERR_SESSION_IN_USE' });
    await waitClosed(ws);
    expect((await send(server.port, first.host, { path: '/hello' })).status).toBe(200);
  });

  it('answers a malformed control message with an error and closes only that agent', async () => {
    await start();
    const other = await connectTestAgent(server.port, createFixture().handler);
    const ws = await openAgentSocket(server.port);
    const firstMessage = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    ws.send('{"type":"register","version":1}');
    expect(JSON.parse(await firstMessage)).toMatchObject({ type: 'error', code: 'ERR_INVALID_PAYLOAD' });
    await waitClosed(ws);
    expect((await send(server.port, other.host, { path: '/hello' })).status).toBe(200);
  });

  it('closes only the agent that sends a malformed frame; other sessions keep serving', async () => {
    await start();
    const good = await connectTestAgent(server.port, createFixture().handler);
    const bad = await connectTestAgent(server.port, createFixture().handler);
    // Frame type 0x42 does not exist: a connection-level error (GOAWAY, then close).
    const garbage = encodeFrame(0x1, 0, 1, new Uint8Array(0));
    garbage[0] = 0x42;
    bad.ws.send(garbage);
    await waitClosed(bad.ws);
    const r = await send(server.port, good.host, { path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET');
    const badReply = await eventually(async () => {
      const reply = await send(server.port, bad.host, { path: '/hello' });
      return reply.status === 502 ? reply : undefined;
    }, 'the bad agent session to be in grace');
    expect(badReply.status).toBe(502);
    await closeSocket(good.ws);
  });

  it('closes an agent that stops answering heartbeats', async () => {
    await start({ heartbeatIntervalMs: 20, heartbeatTimeoutMs: 50 });
    const agent = await connectTestAgent(server.port, createFixture().handler);
    // A frozen agent: its socket stays open but it reads (and so answers) nothing.
    agent.ws.pause();
    await eventually(async () => {
      const metrics = (await send(server.port, `localhost:${server.port}`, { path: '/metrics' })).body.toString();
      return /wingman_sessions\{state="grace"\} 1/.test(metrics);
    }, 'the frozen agent to be dropped');
    agent.ws.terminate();
  });
});
