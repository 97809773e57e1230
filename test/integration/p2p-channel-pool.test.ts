/**
 * The P2P channel pool (docs/PROTOCOL.md §Channel pool): a viewer's streams
 * spread over several data channels of one peer connection, each bound with
 * the link key, and a channel whose delivery is held back (as SCTP holds an
 * ordered channel back behind a lost packet until it is retransmitted) holds
 * back only its own streams. Node viewer (@roamhq/wrtc) against the real
 * agent; runs inside the loopback-only namespace `npm test` creates.
 */
import type { Connection } from '@wingman/protocol';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import type { RtcDataChannel } from '../../packages/relay-server/src/p2p/webrtc';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { until, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const CHANNELS = 4;

let app: FixtureApp;
let t: Tunnel;
let v: P2PViewer | undefined;

afterEach(async () => {
  v?.close();
  v = undefined;
  await killAll();
  await app?.close();
});

/** GET `target` on `conn`: status and body. */
async function get(conn: Connection, target: string): Promise<string> {
  const r = await requestOver(conn, { method: 'GET', target, headers: [['host', t.host]] });
  return `${r.status} ${(await r.bytes()).toString()}`;
}

/**
 * Holds back every message the channel receives until `release()`, then
 * delivers them in order: what an ordered SCTP stream does behind a lost
 * packet. wrtc dispatches a channel's events through its dispatchEvent.
 */
function holdChannel(dc: RtcDataChannel): { held: () => number; release: () => void } {
  const target = dc as unknown as { dispatchEvent(ev: { type: string }): void };
  const dispatch = target.dispatchEvent.bind(target);
  const held: Array<{ type: string }> = [];
  target.dispatchEvent = (ev) => (ev.type === 'message' ? void held.push(ev) : dispatch(ev));
  return {
    held: () => held.length,
    release() {
      target.dispatchEvent = dispatch;
      for (const ev of held.splice(0)) dispatch(ev);
    },
  };
}

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
