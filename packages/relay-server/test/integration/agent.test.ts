/**
 * The agent against a small real WebSocket server playing the tunnel
 * server's register/registered exchange, forwarding to a real local app.
 */
import { EventEmitter } from 'node:events';
import { createAgent, type Agent, type AgentEvents, type AgentOptions } from '../../src/agent';
import { createForwarder, type Forwarder, type RequestLogEntry } from '../../src/forward';
import { linkVerifierOf } from '../../src/agent/link-verifier';
import { freePort, startLocalApp, type LocalApp } from './helpers/local-app';
import { startFakeTunnelServer, type FakeTunnelServer } from './helpers/fake-tunnel-server';
import { header, send } from './helpers/viewer';
import { expectNoEventWithin, waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let app: LocalApp;
let server: FakeTunnelServer | undefined;
let agent: Agent | undefined;
/** The agent's forwarder to the app, and its request log lines. */
let forwarder: Forwarder;
const requests = new EventEmitter<{ request: [RequestLogEntry] }>();

beforeEach(async () => {
  app = await startLocalApp();
  forwarder = createForwarder({ target: { host: '127.0.0.1', port: app.port }, onRequest: (entry) => requests.emit('request', entry) });
});

afterEach(async () => {
  await agent?.close();
  agent = undefined;
  forwarder.close();
  await server?.close();
  server = undefined;
  await app.close();
});

function start(options: Partial<AgentOptions> = {}): Agent {
  agent = createAgent({
    server: server!.url,
    token: 'test-token-123',
    forwarder,
    backoff: { initialMs: 20, maxMs: 200 },
    ...options,
  });
  agent.start();
  return agent;
}

function next<K extends keyof AgentEvents>(a: Agent, event: K, timeoutMs = 10_000): Promise<AgentEvents[K][0]> {
  return waitForEvent(a, event, { timeoutMs, what: `the agent's "${String(event)}" event` });
}

describe('agent', () => {
  it('registers, prints the session URL and serves relay streams from the server', async () => {
    server = await startFakeTunnelServer();
    const a = start();
    const ready = await next(a, 'ready');
    expect(ready).toMatchObject({ resumed: false, p2p: true });
    expect(ready.url).toBe(`http://${ready.sessionId}.localhost:${server.port}/`);
    // The verifier of the new session's key (docs/PROTOCOL.md §Link access); the key itself never leaves.
    expect(server.registers).toEqual([{ type: 'register', version: 1, p2p: true, client: 'wingman/0.1.0', linkVerifier: linkVerifierOf(ready.linkKey) }]);

    const logged = waitForEvent(requests, 'request', { what: "the forwarder's request line" });
    const r = await send(server.connection()!, { method: 'POST', target: '/echo', body: Buffer.from('through the relay') });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('through the relay');
    expect(header(r.headers, 'x-wingman-transport')).toBe('relay');
    expect(await logged).toMatchObject({ method: 'POST', target: '/echo', status: 200, transport: 'relay' });
  });

  it('offers no P2P when p2p is false', async () => {
    server = await startFakeTunnelServer();
    const ready = await next(start({ p2p: false }), 'ready');
    expect(ready.p2p).toBe(false);
    expect(server.registers[0]!.p2p).toBe(false);
  });

  it('stops for good when the server refuses the token (401), without retrying', async () => {
    server = await startFakeTunnelServer();
    const a = start({ token: 'wrong-token' });
    const reconnecting = jest.fn();
    a.on('reconnecting', reconnecting);
    expect(await next(a, 'fatal')).toEqual({ code: 'ERR_TOKEN_REFUSED', message: 'the tunnel server refused the token' });
    // A retry would come after the first backoff delay (20 ms); 15× that without one shows there is none.
    await expectNoEventWithin(a, 'reconnecting', { windowMs: 300 });
    expect(server.upgrades).toBe(1);
    expect(reconnecting).not.toHaveBeenCalled();
  });

  it('stops when the server answers register with an error', async () => {
    server = await startFakeTunnelServer({ answer: () => ({ type: 'error', code: 'ERR_UNSUPPORTED_VERSION', message: 'agent too old' }) });
    expect(await next(start(), 'fatal')).toEqual({ code: 'ERR_UNSUPPORTED_VERSION', message: 'agent too old' });
  });

  it('reconnects after a drop and resumes the same session URL', async () => {
    server = await startFakeTunnelServer();
    const a = start();
    const first = await next(a, 'ready');
    const disconnected = next(a, 'disconnected');
    const again = next(a, 'ready');
    server.socket()!.terminate();
    expect((await disconnected).reason).toMatch(/connection to the tunnel server lost/);
    const second = await again;
    expect(second).toMatchObject({ url: first.url, sessionId: first.sessionId, resumed: true, linkKey: first.linkKey });
    expect(server.registers[1]!.resume?.sessionId).toBe(first.sessionId);
    // The resumed session's own key; the top-level verifier is a new key's, for a new session instead.
    expect(server.registers[1]!.resume?.linkVerifier).toBe(linkVerifierOf(first.linkKey));
    expect(server.registers[1]!.linkVerifier).not.toBe(linkVerifierOf(first.linkKey));
    expect(server.registers[1]!.resume?.resumeSecret).toEqual(expect.any(String));
    const r = await send(server.connection()!, { target: '/echo' });
    expect(r.status).toBe(200);
  });

  it('reconnects (same URL) when the server refuses a message on a live connection and closes it', async () => {
    server = await startFakeTunnelServer();
    const a = start();
    const first = await next(a, 'ready');
    const disconnected = next(a, 'disconnected');
    const again = next(a, 'ready');
    server.socket()!.send(JSON.stringify({ type: 'error', code: 'ERR_INVALID_PAYLOAD', message: 'bad signal' }));
    server.socket()!.close(1008);
    expect((await disconnected).reason).toBe('the tunnel server closed the connection (ERR_INVALID_PAYLOAD: bad signal)');
    expect(await again).toMatchObject({ sessionId: first.sessionId, resumed: true });
  });

  it('retries an unreachable server with growing delays and connects once it is up', async () => {
    const port = await freePort();
    agent = createAgent({
      server: `http://127.0.0.1:${port}`,
      token: 'test-token-123',
      forwarder,
      backoff: { initialMs: 20, maxMs: 160 },
    });
    const retries: Array<{ attempt: number; delayMs: number; reason: string }> = [];
    agent.on('reconnecting', (e) => retries.push(e));
    const ready = next(agent, 'ready');
    agent.start();
    await waitForEvent(agent, 'reconnecting', { filter: () => retries.length >= 4, what: 'the fourth retry' });
    server = await startFakeTunnelServer({ port });
    await ready;
    expect(retries[0]!.reason).toMatch(/cannot reach the tunnel server at http:\/\/127\.0\.0\.1:\d+: connection refused/);
    expect(retries.slice(0, 4).map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    // Equal jitter: each delay lies in [50 %, 100 %] of 20 · 2^(attempt−1), capped at 160.
    retries.slice(0, 4).forEach((r) => {
      const cap = Math.min(160, 20 * 2 ** (r.attempt - 1));
      expect(r.delayMs).toBeGreaterThanOrEqual(cap / 2);
      expect(r.delayMs).toBeLessThanOrEqual(cap);
    });
  });

  it('drops a connection whose PINGs go unanswered and resumes on a new one', async () => {
    server = await startFakeTunnelServer();
    const a = start({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 200 });
    const first = await next(a, 'ready');
    const again = next(a, 'ready');
    server.socket()!.pause(); // the server stops reading: no PONG comes back
    const second = await again;
    expect(second).toMatchObject({ sessionId: first.sessionId, resumed: true });
  });

  it('passes other validated control messages on, ignores malformed ones, and sends its own', async () => {
    server = await startFakeTunnelServer();
    const a = start();
    await next(a, 'ready');
    const control = next(a, 'control');
    server.socket()!.send('{"type":"no-such-message"}');
    server.socket()!.send('not json');
    server.socket()!.send(JSON.stringify({ type: 'viewer-left', viewerId: '0123456789abcdef' }));
    expect(await control).toEqual({ type: 'viewer-left', viewerId: '0123456789abcdef' });
    const got = new Promise<string>((resolve) => server!.socket()!.on('message', (d, isBinary) => !isBinary && resolve(d.toString())));
    expect(a.sendControl({ type: 'peer-report', viewerId: '0123456789abcdef', state: 'closed' })).toBe(true);
    expect(JSON.parse(await got)).toEqual({ type: 'peer-report', viewerId: '0123456789abcdef', state: 'closed' });
    // The relay still works after the junk.
    expect((await send(server.connection()!, { target: '/echo' })).status).toBe(200);
  });

  it('closes gracefully and does not reconnect', async () => {
    server = await startFakeTunnelServer();
    const a = start();
    await next(a, 'ready');
    const closed = new Promise<number>((resolve) => server!.socket()!.once('close', (code) => resolve(code)));
    const reconnecting = jest.fn();
    a.on('reconnecting', reconnecting);
    await a.close();
    expect(await closed).toBe(1000);
    // 10× the first backoff delay (20 ms) without a retry shows there is none.
    await expectNoEventWithin(a, 'reconnecting', { windowMs: 200 });
    expect(server.upgrades).toBe(1);
    expect(reconnecting).not.toHaveBeenCalled();
  });
});
