/**
 * Quotas that keep a public tunnel server shareable: sessions per agent
 * token, wrong agent tokens per source address, connections per source
 * address, signaling sockets per viewer address, and the metrics token.
 * Sources are told apart by loopback address (127.0.0.2, 127.0.0.3).
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { AGENT_PATH, SIGNAL_PATH } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer, type TunnelServerOptions } from '@wingman/tunnel-server';
import { createFixture } from './helpers/fixture-handler';
import { send } from './helpers/http-client';
import { closeAllAgents, connectTestAgent, openAgentSocket, register, TEST_TOKEN } from './helpers/test-agent';
import { closeAllViewers, holdGet, openWs, type WsOutcome } from './helpers/viewer-client';
import { expectNoEventWithin, until, waitForEntry, waitForEvent, withTimeout } from '../../../../test/helpers/wait';
import { MAX_VIEWERS_PER_SESSION, SIGNALING_CUT_MESSAGE, SIGNALING_CUT_REASON } from '../../src/signaling/signaling-shares';

jest.setTimeout(30_000);

const A = '127.0.0.2';
const B = '127.0.0.3';
const OTHER_TOKEN = 'other-agent-token-0123456789';

let server: TunnelServer;
const sockets = new Set<Socket>();

async function start(options: TunnelServerOptions): Promise<void> {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN, OTHER_TOKEN], logLevel: 'silent', ...options });
}

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  closeAllViewers();
  closeAllAgents();
  await server?.close();
});

/** An agent upgrade from `from` with `token`; resolves with the HTTP status of a refusal (101 when it upgraded). */
function agentUpgrade(from: string, token: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: server.port,
      path: AGENT_PATH,
      localAddress: from,
      agent: false,
      headers: {
        host: `localhost:${server.port}`,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        authorization: `Bearer ${token}`,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no answer to the agent upgrade'));
    }, 5_000);
    req.on('upgrade', (_res, socket) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: 101, retryAfter: undefined, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body });
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** A TCP connection from `from` that sends nothing; resolves once connected. */
function idleConnection(from: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: server.port, localAddress: from });
    sockets.add(s);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** The first JSON message on a signaling socket, and its close code when it was an error. */
async function firstMessageAndClose(o: Extract<WsOutcome, { kind: 'open' }>): Promise<{ message: { type: string; code?: string }; code: number | undefined }> {
  await waitForEntry(o.messages, o.ws, 'message', { timeoutMs: 5_000, what: 'a signaling message' });
  const message = JSON.parse(o.messages[0]!) as { type: string; code?: string };
  return { message, code: message.type === 'hello' ? undefined : await o.closed };
}

describe('sessions per agent token', () => {
  it('refuses a registration over MAX_SESSIONS_PER_TOKEN with ERR_TOO_MANY_SESSIONS while other tokens still register', async () => {
    await start({ limits: { sessionsPerToken: 2 } });
    const fixture = createFixture();
    await connectTestAgent(server.port, fixture.handler);
    await connectTestAgent(server.port, fixture.handler);
    const ws = await openAgentSocket(server.port, TEST_TOKEN);
    const { message } = await register(ws, {}, fixture.handler);
    expect(message).toMatchObject({ type: 'error', code: 'ERR_TOO_MANY_SESSIONS' });
    const other = await connectTestAgent(server.port, fixture.handler, { token: OTHER_TOKEN });
    expect((await send(server.port, other.host, { path: '/hello' })).status).toBe(200);
  });

  it('lets a token register again once one of its sessions expired', async () => {
    await start({ limits: { sessionsPerToken: 1 }, sessionGraceMs: 0 });
    const fixture = createFixture();
    const first = await connectTestAgent(server.port, fixture.handler);
    await first.close();
    // Expiry runs on a 0 ms timer after the close is seen: a bounded retry, not a timed assertion.
    let registered = false;
    let last = '';
    await until(
      async () => {
        const ws = await openAgentSocket(server.port, TEST_TOKEN);
        const { message } = await register(ws, {}, fixture.handler);
        last = JSON.stringify(message);
        registered = message.type === 'registered';
        return registered;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'the token to register again', observe: () => last },
    );
    expect(registered).toBe(true);
  });
});

describe('agent token guessing', () => {
  it('answers 429 with Retry-After to an address after MAX_AGENT_AUTH_FAILURES wrong tokens, even with the right one, and not to other addresses', async () => {
    await start({ limits: { agentAuthFailures: 3 } });
    for (let i = 0; i < 3; i++) expect((await agentUpgrade(A, `wrong-token-${i}-0123456789`)).status).toBe(401);
    const throttled = await agentUpgrade(A, TEST_TOKEN);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.retryAfter)).toBeGreaterThan(0);
    expect(throttled.body).toContain('ERR_AUTH_THROTTLED');
    expect((await agentUpgrade(B, TEST_TOKEN)).status).toBe(101);
  });
});

describe('connections per source address', () => {
  it('closes a connection over MAX_CONNECTIONS_PER_ADDRESS while other addresses are served', async () => {
    await start({ limits: { connectionsPerAddress: 4 } });
    for (let i = 0; i < 4; i++) await idleConnection(A);
    await expect(holdGet(server.port, `localhost:${server.port}`, '/healthz', A)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await holdGet(server.port, `localhost:${server.port}`, '/healthz', B)).status).toBe(200);
  });
});

describe('first request head', () => {
  /** The header timeout these tests set: short, so closes come quickly. */
  const HEADER_TIMEOUT_MS = 500;

  it('closes a connection that sends nothing, or half a head, within HEADER_TIMEOUT_MS of accept, and not one whose request arrived', async () => {
    await start({ limits: { headerTimeoutMs: HEADER_TIMEOUT_MS } });
    const silent = await idleConnection(A);
    const partial = await idleConnection(A);
    // Reading, so that the server's close is seen ('end', then 'close').
    silent.resume();
    partial.resume();
    const closed = Promise.all([
      waitForEvent(silent, 'close', { timeoutMs: 5_000, what: 'the silent connection to be closed' }),
      waitForEvent(partial, 'close', { timeoutMs: 5_000, what: 'the half-head connection to be closed' }),
    ]);
    partial.write(`GET /healthz HTTP/1.1\r\nHost: localhost:${server.port}\r\n`);
    const served = await idleConnection(B);
    const answered = waitForEvent(served, 'data', { timeoutMs: 5_000, what: 'the /healthz answer' });
    served.write(`GET /healthz HTTP/1.1\r\nHost: localhost:${server.port}\r\n\r\n`);
    expect(String(await answered)).toMatch(/^HTTP\/1\.1 200/);
    await closed;

    // The connection that sent a request is left to the keep-alive timeout (65 s).
    await expectNoEventWithin(served, 'close', { windowMs: 3 * HEADER_TIMEOUT_MS, what: 'the served connection closing' });
  });
});

describe('signaling sockets per viewer address', () => {
  /** Opens a signaling socket from `from` and leaves it open; its first message. */
  const holdSignaling = async (host: string, from: string) => {
    const o = await openWs(server.port, host, SIGNAL_PATH, from);
    if (o.kind !== 'open') throw new Error(`signaling refused: ${o.status}`);
    await waitForEntry(o.messages, o.ws, 'message', { timeoutMs: 5_000, what: 'a signaling message' });
    return JSON.parse(o.messages[0]!) as { type: string; code?: string; message?: string };
  };

  it('refuses a signaling socket over MAX_SIGNALING_PER_VIEWER with ERR_SIGNALING_QUOTA while other addresses signal', async () => {
    await start({ limits: { signalingPerViewer: 2 } });
    const agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
    const open = async (from: string) => {
      const o = await openWs(server.port, agent.host, SIGNAL_PATH, from);
      if (o.kind !== 'open') throw new Error(`signaling refused: ${o.status}`);
      return firstMessageAndClose(o);
    };
    expect((await open(A)).message.type).toBe('hello');
    expect((await open(A)).message.type).toBe('hello');
    const third = await open(A);
    expect(third.message).toMatchObject({ type: 'error', code: 'ERR_SIGNALING_QUOTA' });
    expect(third.code).toBe(1008);
    expect((await open(B)).message.type).toBe('hello');
  });

  it('keeps a signaling socket for a viewer that holds none while eight addresses of separate networks each hold every socket they can', async () => {
    await start({});
    const agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
    const hold = (from: string) => holdSignaling(agent.host, from);
    const heldBy: number[] = [];
    for (let a = 1; a <= 8; a++) {
      const replies = [];
      // Each address of another network (/24): within one, the network's share would bind first.
      for (let i = 0; i < 8; i++) replies.push(await hold(`127.0.${10 + a}.1`));
      for (const r of replies) if (r.type !== 'hello') expect(r.code).toBe('ERR_SIGNALING_QUOTA');
      heldBy.push(replies.filter((r) => r.type === 'hello').length);
    }
    // 8 each while half of the session's 64 stays free, then a quarter of what is left.
    expect(heldBy).toEqual([8, 8, 8, 8, 8, 6, 4, 3]);
    expect((await hold(B)).type).toBe('hello');
    expect((await hold(B)).type).toBe('hello');
  });

  it('keeps signaling sockets for a viewer of another network while sixteen addresses of one /24 each hold every socket they can', async () => {
    await start({});
    const agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
    const hold = (from: string) => holdSignaling(agent.host, from);
    let held = 0;
    let refusal: { code?: string; message?: string } | undefined;
    // Counted per address alone, these sixteen took all 64 of the session's signaling sockets.
    for (let a = 1; a <= 16; a++) {
      for (let i = 0; i < 8; i++) {
        const r = await hold(`127.0.5.${a}`);
        if (r.type === 'hello') held++;
        else refusal = r;
      }
    }
    const newcomer = [await hold(B), await hold(B)];
    expect(newcomer.map((r) => r.type)).toEqual(['hello', 'hello']);
    // The /24 together holds a quarter of the 64 sockets, and is told it is its network's share.
    expect(held).toBe(16);
    expect(refusal).toMatchObject({ code: 'ERR_SIGNALING_QUOTA', message: expect.stringContaining('network') });
  });
});

describe('signaling sockets per network', () => {
  /** Networks (/24s) of the crowd: more than the 17 whose shares together took all 64 signaling sockets. */
  const CROWD_NETWORKS = 24;

  it("keeps P2P set-up for a newcomer's network while 24 networks each hold every signaling socket they can: the newest of the network holding the most is cut for it", async () => {
    await start({});
    const agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
    /** Sockets that got a hello and were closed by the server later: how, and the last message they read. */
    const cut: Array<{ code: number; reason: string; last: { type: string; code?: string; message?: string } }> = [];
    let expected = Number.POSITIVE_INFINITY;
    let allCut!: () => void;
    const reached = new Promise<void>((resolve) => (allCut = resolve));
    const hold = async (from: string) => {
      const o = await openWs(server.port, agent.host, SIGNAL_PATH, from);
      if (o.kind !== 'open') throw new Error(`signaling refused: ${o.status}`);
      await waitForEntry(o.messages, o.ws, 'message', { timeoutMs: 5_000, what: 'a signaling message' });
      const first = JSON.parse(o.messages[0]!) as { type: string; code?: string };
      if (first.type !== 'hello') return first;
      o.ws.once('close', (code, reason) => {
        cut.push({ code, reason: reason.toString(), last: JSON.parse(o.messages.at(-1)!) as { type: string } });
        if (cut.length >= expected) allCut();
      });
      return first;
    };
    let hellos = 0;
    for (let n = 0; n < CROWD_NETWORKS; n++) {
      for (let i = 0; i < 8; i++) {
        if ((await hold(`127.0.${30 + n}.1`)).type !== 'hello') break;
        hellos++;
      }
    }
    // Every socket was taken before the crowd's end (by 17 networks): counted by shares alone, a newcomer got ERR_TOO_MANY_VIEWERS.
    const newcomer = [await hold(B), await hold(B)];
    expect(newcomer).toEqual([expect.objectContaining({ type: 'hello' }), expect.objectContaining({ type: 'hello' })]);
    expect(hellos).toBeGreaterThan(MAX_VIEWERS_PER_SESSION);
    // What was opened beyond the session's 64 was cut again, each socket told why.
    expected = hellos + newcomer.length - MAX_VIEWERS_PER_SESSION;
    if (cut.length >= expected) allCut();
    await withTimeout(reached, { timeoutMs: 5_000, what: `${expected} signaling sockets cut` });
    expect(cut).toHaveLength(expected);
    for (const c of cut) {
      expect(c).toEqual({ code: 1013, reason: SIGNALING_CUT_REASON, last: { type: 'error', code: 'ERR_SIGNALING_QUOTA', message: SIGNALING_CUT_MESSAGE } });
    }
  });
});

describe('metrics token', () => {
  it('answers /metrics 401 without METRICS_TOKEN and leaves session counts out of public pages', async () => {
    await start({ metricsToken: 'metrics-secret-0123' });
    const apex = `localhost:${server.port}`;
    const refused = await send(server.port, apex, { path: '/metrics' });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body.toString())).toMatchObject({ error: 'ERR_METRICS_TOKEN' });
    const allowed = await send(server.port, apex, { path: '/metrics', headers: { authorization: 'Bearer metrics-secret-0123' } });
    expect(allowed.status).toBe(200);
    expect(allowed.body.toString()).toContain('wingman_sessions');
    expect(JSON.parse((await send(server.port, apex, { path: '/healthz' })).body.toString())).toEqual({ ok: true });
    expect((await send(server.port, apex, { path: '/' })).body.toString()).not.toMatch(/sessions? active/);
  });
});
