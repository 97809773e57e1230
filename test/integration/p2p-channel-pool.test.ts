/**
 * The P2P channel pool (docs/PROTOCOL.md §Channel pool): a viewer's streams
 * spread over several data channels of one peer connection, each bound with
 * the link key, and a channel whose delivery is held back (as SCTP holds an
 * ordered channel back behind a lost packet until it is retransmitted) holds
 * back only its own streams. Striped over several peer connections
 * (P2P_PEER_CONNECTIONS), each signaled in parallel on the viewer's one
 * signaling socket and named by its `pc`, each bound with the link key and
 * carrying its share of the pool: streams spread over all of them, one held
 * back holds back only its own streams, and one closed leaves the others
 * serving. The viewer's leave() (its goodbye before its process exits:
 * `wingman fetch`) sends the bye over signaling and nothing more on any
 * channel: the agent closes its side on the bye, and a frame sent while
 * that teardown reaches the viewer's channel can crash the viewer's process
 * inside @roamhq/wrtc (SIGSEGV in RTCDataChannel::Send). Node viewer
 * (@roamhq/wrtc, in a child process of its own:
 * test/helpers/p2p-viewer-process.ts, which holds channels back and records
 * their sends there) against the real agent; runs inside the loopback-only
 * namespace `npm test` creates.
 */
import { TAIL_PROBE_COUNT, TAIL_PROBE_IDLE_MS } from '../../packages/protocol/src/transports/tail-probe';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess, type On, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { expectNoEventWithin, until, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const CHANNELS = 4;
const PEER_CONNECTIONS = 2;

let app: FixtureApp;
let t: Tunnel;
let v: ViewerProcess | undefined;

afterEach(async () => {
  v = undefined;
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app?.close();
  }
});

/** GET `target` on connection `on` of the viewer: status and body. */
const get = async (on: On, target: string) => {
  const r = await v!.request({ method: 'GET', target, headers: [['host', t.host]] }, { on });
  return `${r.status} ${r.body.toString()}`;
};

/** GETs opened in one turn of the viewer's process, each on the connection pick() gives then: status and body, and where each went. */
const burst = async (targets: string[]) =>
  (
    await v!.requestBurst(
      targets.map((target) => ({ method: 'GET', target, headers: [['host', t.host]] })),
      { on: 'pick' },
    )
  ).map((r) => ({
    answer: `${r.status} ${r.body.toString()}`,
    connection: r.connection,
    peer: r.peer,
  }));

describe('P2P channel pool', () => {
  it('spreads streams over every bound channel, and a held-back channel holds back only its own streams', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectViewerProcess({ url: t.link, channels: CHANNELS, timeoutMs: 20_000 });
    const viewer = v;
    expect(viewer.facts?.verified).toBe(true);
    // The agent served (and bound) every channel: each said HELLO.
    const { connections } = await viewer.state();
    expect(connections.length).toBe(CHANNELS);

    // A burst opened at once goes over every channel.
    const sent = await burst(Array.from({ length: 2 * CHANNELS }, (_, i) => `/hello?i=${i}`));
    expect(new Set(sent.map((r) => r.answer))).toEqual(new Set(['200 hello GET']));
    expect(new Set(sent.map((r) => r.connection)).size).toBe(CHANNELS);

    // The first channel's delivery stalls with a response in flight on it.
    const stalled = await viewer.holdChannel(0, 0);
    const first = connections[0]!.id;
    let stalledDone = false;
    const stalledAnswer = get(first, '/hello?stalled').then((a) => {
      stalledDone = true;
      return a;
    });
    stalledAnswer.catch(() => undefined); // awaited below
    // The answer reached this end and is held there.
    await until(async () => (await stalled.held()) > 0 || undefined, { timeoutMs: 15_000, intervalMs: 10, what: 'the answer on the held-back channel' });
    // Streams opened meanwhile go on the other, idle, channels and complete.
    const others = await withTimeout(burst(Array.from({ length: CHANNELS - 1 }, (_, i) => `/hello?during=${i}`)), {
      timeoutMs: 15_000,
      what: 'the answers on the channels that are not held back',
    });
    expect(new Set(others.map((r) => r.answer))).toEqual(new Set(['200 hello GET']));
    expect(others.map((r) => r.connection).includes(first)).toBe(false);
    expect(stalledDone).toBe(false);

    // Released, the held-back channel delivers its answer, in order.
    await stalled.release();
    await expect(withTimeout(stalledAnswer, { timeoutMs: 15_000, what: 'the held-back answer' })).resolves.toBe('200 hello GET');
  });
});

describe('P2P striped over peer connections', () => {
  it('spreads streams over two bound peer connections; one held back holds back only its streams, one closed leaves the other serving', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { serverEnv: { P2P_PEER_CONNECTIONS: String(PEER_CONNECTIONS), P2P_CHANNELS: String(CHANNELS) } });
    v = await connectViewerProcess({ url: t.link, channels: CHANNELS, peerConnections: PEER_CONNECTIONS, timeoutMs: 20_000 });
    const viewer = v;
    // The server's setting reached the viewer in its hello (what a browser viewer follows).
    expect(viewer.facts?.p2p.peerConnections).toBe(PEER_CONNECTIONS);
    expect(viewer.facts?.verified).toBe(true);
    await viewer.allSettled(20_000);
    const state = await viewer.state();
    expect(state.peerConnections.length).toBe(PEER_CONNECTIONS);
    // The agent served (and bound) the pool's channels on both peer connections: two on each said HELLO.
    expect(state.connections.length).toBe(CHANNELS);
    expect(state.connections.map((c) => c.peer).sort()).toEqual([0, 0, 1, 1]);
    // Two DTLS associations: each peer connection has its own.
    const fingerprint = (i: number) => /a=fingerprint:(\S+ \S+)/.exec(state.peerConnections[i]!.remoteSdp)?.[1];
    expect(fingerprint(0)).toBeDefined();
    expect(fingerprint(1)).toBeDefined();
    // The agent reports the viewer once, however many peer connections it has.
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewer.viewerId);

    // A burst opened at once goes over both peer connections.
    const sent = await burst(Array.from({ length: 2 * CHANNELS }, (_, i) => `/hello?i=${i}`));
    expect(new Set(sent.map((r) => r.answer))).toEqual(new Set(['200 hello GET']));
    expect(new Set(sent.map((r) => r.peer))).toEqual(new Set([0, 1]));

    // Peer connection 0's delivery stalls, with a response in flight on each of its channels.
    const stalls = await Promise.all(state.peerConnections[0]!.channels.map((_, i) => viewer.holdChannel(0, i)));
    const onFirst = state.connections.filter((c) => c.peer === 0).map((c) => c.id);
    let stalledDone = 0;
    const stalledAnswers = Promise.all(
      onFirst.map((c, i) =>
        get(c, `/hello?stalled=${i}`).then((a) => {
          stalledDone++;
          return a;
        }),
      ),
    );
    stalledAnswers.catch(() => undefined); // awaited below
    await until(async () => (await Promise.all(stalls.map((s) => s.held()))).every((n) => n > 0) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: 'the answers on the held-back peer connection',
    });
    // Streams opened meanwhile go on the other peer connection and complete.
    const others = await withTimeout(burst(Array.from({ length: 2 }, (_, i) => `/hello?during=${i}`)), {
      timeoutMs: 15_000,
      what: 'the answers on the peer connection that is not held back',
    });
    expect(new Set(others.map((r) => r.answer))).toEqual(new Set(['200 hello GET']));
    expect(others.map((r) => r.peer)).toEqual([1, 1]);
    expect(stalledDone).toBe(0);
    for (const s of stalls) await s.release();
    await expect(withTimeout(stalledAnswers, { timeoutMs: 15_000, what: 'the held-back answers' })).resolves.toEqual(['200 hello GET', '200 hello GET']);

    // Peer connection 0 (the one the viewer started on) closed: the agent closes its side, and peer connection 1 goes on serving.
    await viewer.closePeerConnection(0);
    await until(async () => (await viewer.state()).peerConnections[0]!.channels.every((s) => s === 'closed') || undefined, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'peer connection 0 closed',
    });
    expect((await viewer.state()).connections.map((c) => c.peer)).toEqual([1, 1]);
    const after = await withTimeout(burst(Array.from({ length: 4 }, (_, i) => `/hello?after=${i}`)), {
      timeoutMs: 15_000,
      what: 'the answers after peer connection 0 closed',
    });
    expect(new Set(after.map((r) => r.answer))).toEqual(new Set(['200 hello GET']));
  });
});

describe("the viewer's leave()", () => {
  it('sends nothing on any channel once it has said goodbye, and ends its protocol connections', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectViewerProcess({ url: t.url, peerConnections: PEER_CONNECTIONS, timeoutMs: 20_000 });
    const viewer = v;
    await viewer.allSettled(20_000);
    const connections = (await viewer.state()).connections.map((c) => c.id);
    expect(connections.length).toBeGreaterThan(1);

    // Right after the request, in the same turn of the viewer's process: its tail-loss probes are still due. Every send on
    // every channel of the viewer from the request's end on is reported by that process.
    const { response, sent } = await viewer.requestThenLeave({ method: 'GET', target: '/hello', headers: [['host', t.host]] }, { on: 'pick' });
    expect(`${response.status} ${response.body.toString()}`).toBe('200 hello GET');
    // Long enough for every tail-loss probe of that request to have gone out.
    await expectNoEventWithin(viewer.events, 'channel-send', {
      windowMs: TAIL_PROBE_IDLE_MS + TAIL_PROBE_COUNT * 10,
      what: 'a send on a channel after leave()',
    });
    expect(sent).toEqual([]);
    const known = (await viewer.state()).known;
    expect(connections.every((id) => known.find((c) => c.id === id)?.isClosed)).toBe(true);
  });
});
