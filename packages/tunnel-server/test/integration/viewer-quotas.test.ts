/**
 * Per-viewer quotas on one session: a hostile viewer (one source address)
 * that holds slow requests and idle WebSockets cannot take the session away
 * from another viewer, and idle relayed WebSockets are closed.
 */
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { CUT_MESSAGE, CUT_REASON } from '../../src/relay/viewer-streams';
import { createFixture, type Fixture } from './helpers/fixture-handler';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';
import { closeAllViewers, holdGet, openWs, type HeldResponse, type WsOutcome } from './helpers/viewer-client';
import { delay, until, waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

const HOSTILE = '127.0.0.2';
/** On another network (/24) than HOSTILE: addresses of one network share its fair share too. */
const OTHER = '127.0.3.3';
/** The agent accepts 16 streams at once: a viewer's quota is a quarter of it, 4. */
const AGENT_STREAMS = 16;

let server: TunnelServer;
let agent: TestAgent;

afterEach(async () => {
  closeAllViewers();
  closeAllAgents();
  await server?.close();
});

let fixture: Fixture;

async function start(limits: { wsIdleTimeoutMs?: number } = {}, agentStreams = AGENT_STREAMS): Promise<void> {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', limits });
  fixture = createFixture();
  agent = await connectTestAgent(server.port, fixture.handler, { maxConcurrentStreams: agentStreams });
}

const refusedForQuota = (r: HeldResponse | WsOutcome) =>
  'kind' in r
    ? r.kind === 'refused' && r.status === 503 && r.headers['retry-after'] !== undefined && r.body.includes('ERR_VIEWER_STREAMS')
    : r.status === 503 && r.headers['retry-after'] !== undefined && r.body.includes('ERR_VIEWER_STREAMS');

describe('per-viewer stream quota', () => {
  it('keeps a session usable for other viewers while one viewer holds every slow request and idle WebSocket it can', async () => {
    await start();
    // The hostile viewer tries to take every stream the agent accepts, half slow requests, half idle WebSockets.
    const hostile: Array<HeldResponse | WsOutcome> = [];
    for (let i = 0; i < AGENT_STREAMS / 2; i++) {
      hostile.push(await holdGet(server.port, agent.host, '/hang', HOSTILE));
      hostile.push(await openWs(server.port, agent.host, '/ws', HOSTILE));
    }
    const held = hostile.filter((r) => ('kind' in r ? r.kind === 'open' : r.status === 200));
    expect(held).toHaveLength(AGENT_STREAMS / 4);
    expect(hostile.filter(refusedForQuota)).toHaveLength(AGENT_STREAMS - AGENT_STREAMS / 4);

    // Another viewer's requests and WebSocket still go through.
    const hello = await holdGet(server.port, agent.host, '/hello', OTHER);
    expect(hello.status).toBe(200);
    const ws = await openWs(server.port, agent.host, '/ws', OTHER);
    expect(ws.kind).toBe('open');
    // ... and the hostile viewer stays refused, on its own requests only.
    expect(refusedForQuota(await holdGet(server.port, agent.host, '/hello', HOSTILE))).toBe(true);
  });

  it('keeps serving a viewer that holds nothing while eight addresses of separate networks each hold every slow request and idle WebSocket they can', async () => {
    // 64 streams: a quarter (16) each would let four addresses take them all.
    const streams = 64;
    await start({}, streams);
    // Each of another network (/24): within one, the network's share would bind first.
    const hostileAddresses = Array.from({ length: 8 }, (_, i) => `127.0.${i + 11}.1`);
    const heldBy: number[] = [];
    for (const from of hostileAddresses) {
      let held = 0;
      // Each address tries for a quarter of the connection, one at a time, half requests and half WebSockets.
      for (let i = 0; i < streams / 4; i++) {
        const r = i % 2 === 0 ? await holdGet(server.port, agent.host, '/hang', from) : await openWs(server.port, agent.host, '/ws', from);
        if ('kind' in r ? r.kind === 'open' : r.status === 200) held++;
        else expect(refusedForQuota(r)).toBe(true);
      }
      heldBy.push(held);
    }
    // Each newcomer got at most a quarter of what the earlier ones left free.
    expect(heldBy).toEqual([16, 12, 9, 6, 5, 4, 3, 2]);
    // A viewer holding nothing still gets its page and its WebSocket.
    expect((await holdGet(server.port, agent.host, '/hello', OTHER)).status).toBe(200);
    expect((await openWs(server.port, agent.host, '/ws', OTHER)).kind).toBe('open');
    expect((await holdGet(server.port, agent.host, '/hello', '127.0.2.1')).status).toBe(200);
  });

  it('cuts the newest stream of the network holding the most for a viewer holding none once the agent takes no more, and says why', async () => {
    await start();
    // HOSTILE's network holds its share (4): three WebSockets, and newest a request the app never answers.
    const hostileWs: WsOutcome[] = [];
    for (let i = 0; i < 3; i++) hostileWs.push(await openWs(server.port, agent.host, '/ws', HOSTILE));
    const stalled = holdGet(server.port, agent.host, '/stall', HOSTILE);
    await fixture.waitForHead('/stall');
    // Twelve other networks take one WebSocket each: the agent's 16 streams are all held.
    for (let i = 0; i < AGENT_STREAMS - 4; i++) expect((await openWs(server.port, agent.host, '/ws', `127.0.${i + 20}.1`)).kind).toBe('open');
    expect(refusedForQuota(await holdGet(server.port, agent.host, '/hello', '127.0.20.1'))).toBe(true);

    // A viewer holding nothing is served: HOSTILE's newest stream, the unanswered request, goes.
    expect((await holdGet(server.port, agent.host, '/hello', OTHER)).status).toBe(200);
    const cut = await stalled;
    expect({ status: cut.status, retry: cut.headers['retry-after'] !== undefined }).toEqual({ status: 503, retry: true });
    expect(cut.body).toContain('ERR_VIEWER_STREAMS');
    expect(cut.body).toContain(CUT_MESSAGE.slice(0, 40));
    expect((await fixture.waitForReset('/stall')).code).toBe('ERR_CANCEL');

    // The stream OTHER's request freed goes to yet another network: the agent's streams are all held again.
    expect((await openWs(server.port, agent.host, '/ws', '127.0.40.1')).kind).toBe('open');
    // OTHER's WebSocket next: HOSTILE's newest WebSocket is closed with 1013 and why.
    const newest = hostileWs[2]!;
    if (newest.kind !== 'open') throw new Error(`WebSocket refused: ${newest.status}`);
    const closing = waitForEvent<[number, Buffer]>(newest.ws, 'close', { timeoutMs: 5_000, what: "HOSTILE's newest WebSocket to be closed" });
    expect((await openWs(server.port, agent.host, '/ws', OTHER)).kind).toBe('open');
    const [code, reason] = await closing;
    expect({ code, reason: reason.toString() }).toEqual({ code: 1013, reason: CUT_REASON });
    // A network that holds its floor already (1 of the agent's 16 streams) cuts nothing: it waits, as before.
    expect(refusedForQuota(await holdGet(server.port, agent.host, '/hello', '127.0.20.1'))).toBe(true);
    expect(hostileWs.slice(0, 2).map((w) => w.kind === 'open' && w.ws.readyState === w.ws.OPEN)).toEqual([true, true]);
  });

  it('gives a viewer its slots back when its requests end', async () => {
    await start();
    const slow = await Promise.all([0, 1, 2, 3].map(() => holdGet(server.port, agent.host, '/hang', HOSTILE)));
    expect(slow.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(refusedForQuota(await holdGet(server.port, agent.host, '/hello', HOSTILE))).toBe(true);
    for (const r of slow) r.close();
    // The slots return once the server has seen the cuts (nothing announces that): a bounded retry, not a timed assertion.
    let status = 0;
    await until(
      async () => {
        status = (await holdGet(server.port, agent.host, '/hello', HOSTILE)).status;
        return status === 200;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: 'a slot for the viewer again', observe: () => `status ${status}` },
    );
    expect(status).toBe(200);
  });
});

describe('fair scheduling on the agent connection', () => {
  it("answers another viewer's small request while one viewer's bulk downloads are in flight", async () => {
    await start();
    const MIB = 32;
    const STREAMS = 4;
    let received = 0;
    const bulk = await Promise.all(Array.from({ length: STREAMS }, () => holdGet(server.port, agent.host, `/bulk?mib=${MIB}`, HOSTILE)));
    expect(bulk.map((r) => r.status)).toEqual(Array(STREAMS).fill(200));
    const done = bulk.map((r) => new Promise<void>((resolve) => r.onData((n) => (received += n), resolve)));
    // Round-robin across streams: the small response needs a few frames, not a turn after 128 MiB.
    const hello = await holdGet(server.port, agent.host, '/hello', OTHER);
    const receivedAtHello = received;
    expect(hello.status).toBe(200);
    await Promise.all(done);
    expect(received).toBe(STREAMS * MIB * 1024 * 1024);
    expect(receivedAtHello).toBeLessThan(received / 2);
  });
});

describe('idle relayed WebSockets', () => {
  it('closes a relayed WebSocket with 1001 when no message went either way for the idle timeout', async () => {
    await start({ wsIdleTimeoutMs: 300 });
    const outcome = await openWs(server.port, agent.host, '/ws', OTHER);
    if (outcome.kind !== 'open') throw new Error(`WebSocket refused: ${outcome.status}`);
    const [code, reason] = await waitForEvent<[number, Buffer]>(outcome.ws, 'close', { timeoutMs: 10_000, what: 'the idle WebSocket to be closed' });
    const closed = { code, reason: reason.toString() };
    expect(closed).toEqual({ code: 1001, reason: 'idle timeout' });
  });

  it('keeps a relayed WebSocket open while messages flow', async () => {
    await start({ wsIdleTimeoutMs: 400 });
    const outcome = await openWs(server.port, agent.host, '/ws', OTHER);
    if (outcome.kind !== 'open') throw new Error(`WebSocket refused: ${outcome.status}`);
    const ws = outcome.ws;
    let closedEarly = false;
    ws.once('close', () => (closedEarly = true));
    // Ten echoes 100 ms apart: 1 s of traffic, over twice the idle timeout.
    for (let i = 0; i < 10; i++) {
      const echoed = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
      ws.send(`ping ${i}`);
      expect(await echoed).toBe(`ping ${i}`);
      await delay(100); // pacing: the traffic must span the idle timeout
    }
    expect(closedEarly).toBe(false);
  });
});
