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
 * (@roamhq/wrtc) against the real agent; runs inside the loopback-only
 * namespace `npm test` creates.
 */
import type { Connection } from '@wingman/protocol';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { TAIL_PROBE_COUNT, TAIL_PROBE_IDLE_MS } from '../../packages/protocol/src/transports/tail-probe';
import { getOver, holdChannel } from '../helpers/p2p-channels';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { until, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const CHANNELS = 4;
const PEER_CONNECTIONS = 2;

let app: FixtureApp;
let t: Tunnel;
let v: P2PViewer | undefined;

afterEach(async () => {
  v?.close();
  v = undefined;
  await killAll();
  await app?.close();
});

const get = (conn: Connection, target: string) => getOver(conn, t.host, target);

describe('P2P channel pool', () => {
  it('spreads streams over every bound channel, and a held-back channel holds back only its own streams', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectP2PViewer({ url: t.link, channels: CHANNELS, timeoutMs: 20_000 });
    const viewer = v;
    expect(viewer.verified).toBe(true);
    // The agent served (and bound) every channel: each said HELLO.
    expect(viewer.connections.length).toBe(CHANNELS);

    // A burst opened at once goes over every channel.
    const used = new Set<Connection>();
    const burst = await Promise.all(
      Array.from({ length: 2 * CHANNELS }, (_, i) => {
        const conn = viewer.pick();
        used.add(conn);
        return get(conn, `/hello?i=${i}`);
      }),
    );
    expect(new Set(burst)).toEqual(new Set(['200 hello GET']));
    expect(used.size).toBe(CHANNELS);

    // The first channel's delivery stalls with a response in flight on it.
    const stalled = holdChannel(viewer.channels[0]!);
    const first = viewer.connections[0]!;
    let stalledDone = false;
    const stalledAnswer = get(first, '/hello?stalled').then((a) => {
      stalledDone = true;
      return a;
    });
    // The answer reached this end and is held there.
    await until(() => stalled.held() > 0 || undefined, { timeoutMs: 15_000, intervalMs: 10, what: 'the answer on the held-back channel' });
    // Streams opened meanwhile go on the other, idle, channels and complete.
    const picked: Connection[] = [];
    const others = await withTimeout(
      Promise.all(
        Array.from({ length: CHANNELS - 1 }, (_, i) => {
          const conn = viewer.pick();
          picked.push(conn);
          return get(conn, `/hello?during=${i}`);
        }),
      ),
      { timeoutMs: 15_000, what: 'the answers on the channels that are not held back' },
    );
    expect(new Set(others)).toEqual(new Set(['200 hello GET']));
    expect(picked.includes(first)).toBe(false);
    expect(stalledDone).toBe(false);

    // Released, the held-back channel delivers its answer, in order.
    stalled.release();
    await expect(withTimeout(stalledAnswer, { timeoutMs: 15_000, what: 'the held-back answer' })).resolves.toBe('200 hello GET');
  });
});

describe('P2P striped over peer connections', () => {
  it('spreads streams over two bound peer connections; one held back holds back only its streams, one closed leaves the other serving', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { serverEnv: { P2P_PEER_CONNECTIONS: String(PEER_CONNECTIONS), P2P_CHANNELS: String(CHANNELS) } });
    v = await connectP2PViewer({ url: t.link, channels: CHANNELS, peerConnections: PEER_CONNECTIONS, timeoutMs: 20_000 });
    const viewer = v;
    // The server's setting reached the viewer in its hello (what a browser viewer follows).
    expect(viewer.p2p.peerConnections).toBe(PEER_CONNECTIONS);
    expect(viewer.verified).toBe(true);
    await withTimeout(viewer.allSettled, { timeoutMs: 20_000, what: 'every peer connection up' });
    expect(viewer.peerConnections.length).toBe(PEER_CONNECTIONS);
    // The agent served (and bound) the pool's channels on both peer connections: two on each said HELLO.
    expect(viewer.connections.length).toBe(CHANNELS);
    expect(viewer.connections.map((c) => viewer.peerOf(c)).sort()).toEqual([0, 0, 1, 1]);
    // Two DTLS associations: each peer connection has its own.
    const fingerprint = (i: number) => /a=fingerprint:(\S+ \S+)/.exec(viewer.peerConnections[i]!.remoteDescription?.sdp ?? '')?.[1];
    expect(fingerprint(0)).toBeDefined();
    expect(fingerprint(1)).toBeDefined();
    // The agent reports the viewer once, however many peer connections it has.
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewer.viewerId);

    // A burst opened at once goes over both peer connections.
    const usedPeers = new Set<number | undefined>();
    const burst = await Promise.all(
      Array.from({ length: 2 * CHANNELS }, (_, i) => {
        const conn = viewer.pick();
        usedPeers.add(viewer.peerOf(conn));
        return get(conn, `/hello?i=${i}`);
      }),
    );
    expect(new Set(burst)).toEqual(new Set(['200 hello GET']));
    expect(usedPeers).toEqual(new Set([0, 1]));

    // Peer connection 0's delivery stalls, with a response in flight on each of its channels.
    const stalls = viewer.channelsOf(0).map(holdChannel);
    const onFirst = viewer.connections.filter((c) => viewer.peerOf(c) === 0);
    let stalledDone = 0;
    const stalledAnswers = onFirst.map((c, i) =>
      get(c, `/hello?stalled=${i}`).then((a) => {
        stalledDone++;
        return a;
      }),
    );
    await until(() => stalls.every((s) => s.held() > 0) || undefined, {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: 'the answers on the held-back peer connection',
    });
    // Streams opened meanwhile go on the other peer connection and complete.
    const pickedPeers: Array<number | undefined> = [];
    const others = await withTimeout(
      Promise.all(
        Array.from({ length: 2 }, (_, i) => {
          const conn = viewer.pick();
          pickedPeers.push(viewer.peerOf(conn));
          return get(conn, `/hello?during=${i}`);
        }),
      ),
      { timeoutMs: 15_000, what: 'the answers on the peer connection that is not held back' },
    );
    expect(new Set(others)).toEqual(new Set(['200 hello GET']));
    expect(pickedPeers).toEqual([1, 1]);
    expect(stalledDone).toBe(0);
    for (const s of stalls) s.release();
    await expect(withTimeout(Promise.all(stalledAnswers), { timeoutMs: 15_000, what: 'the held-back answers' })).resolves.toEqual([
      '200 hello GET',
      '200 hello GET',
    ]);

    // Peer connection 0 (the one the viewer started on) closed: the agent closes its side, and peer connection 1 goes on serving.
    const firstChannels = viewer.channelsOf(0);
    viewer.closePeerConnection(0);
    await until(() => firstChannels.every((dc) => dc.readyState === 'closed') || undefined, {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'peer connection 0 closed',
    });
    expect(viewer.connections.map((c) => viewer.peerOf(c))).toEqual([1, 1]);
    const after = await withTimeout(Promise.all(Array.from({ length: 4 }, (_, i) => get(viewer.pick(), `/hello?after=${i}`))), {
      timeoutMs: 15_000,
      what: 'the answers after peer connection 0 closed',
    });
    expect(new Set(after)).toEqual(new Set(['200 hello GET']));
  });
});

describe("the viewer's leave()", () => {
  it('sends nothing on any channel once it has said goodbye, and ends its protocol connections', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectP2PViewer({ url: t.url, peerConnections: PEER_CONNECTIONS, timeoutMs: 20_000 });
    const viewer = v;
    await viewer.allSettled;
    expect(await get(viewer.pick(), '/hello')).toBe('200 hello GET');

    // Every send on every channel of the viewer from here on.
    const sent: string[] = [];
    viewer.peerConnections.forEach((_, i) => {
      for (const dc of viewer.channelsOf(i)) {
        const channel = dc as unknown as { send(data: unknown): void; label: string };
        const send = channel.send.bind(channel);
        channel.send = (data) => {
          sent.push(`${i}/${channel.label}`);
          send(data);
        };
      }
    });
    const connections = viewer.connections.slice();
    expect(connections.length).toBeGreaterThan(1);
    // Right after the request: its tail-loss probes are still due.
    await viewer.leave();
    await new Promise((r) => setTimeout(r, TAIL_PROBE_IDLE_MS + TAIL_PROBE_COUNT * 10));
    expect(sent).toEqual([]);
    expect(connections.every((c) => c.isClosed)).toBe(true);
  });
});
