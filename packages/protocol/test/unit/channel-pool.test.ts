/**
 * The data-channel pool's decisions (transports/channel-pool.ts) on real
 * Connections: the channel and peer-connection counts a page or
 * configuration may ask for, how the channels spread over the peer
 * connections, how signaling names a peer connection, and which connection
 * a new stream goes on.
 */
import {
  channelsOfPeerConnection,
  ConnectionPool,
  DEFAULT_P2P_CHANNELS,
  DEFAULT_P2P_PEER_CONNECTIONS,
  MAX_P2P_CHANNELS,
  MAX_P2P_PEER_CONNECTIONS,
  p2pChannelCount,
  p2pPeerConnectionCount,
  parseHostSignal,
  parseViewerSignal,
} from '@wingman/protocol';
import { connectedPair, waitFor, type Pair } from './pair';

const pairs: Pair[] = [];
afterEach(() => {
  for (const p of pairs.splice(0)) p.close();
});

describe('p2pChannelCount', () => {
  it('takes an integer 1 … MAX_P2P_CHANNELS, as a number or as markup text, and falls back on anything else', () => {
    expect(p2pChannelCount(1)).toBe(1);
    expect(p2pChannelCount(String(MAX_P2P_CHANNELS))).toBe(MAX_P2P_CHANNELS);
    for (const bad of [0, MAX_P2P_CHANNELS + 1, 2.5, '', '3x', ' ', null, undefined, {}, NaN, -1]) expect(p2pChannelCount(bad)).toBe(DEFAULT_P2P_CHANNELS);
    expect(p2pChannelCount('nope', 1)).toBe(1);
  });
});

describe('striping over peer connections', () => {
  it('takes a peer-connection count 1 … MAX_P2P_PEER_CONNECTIONS and falls back on anything else', () => {
    expect(p2pPeerConnectionCount(2)).toBe(2);
    expect(p2pPeerConnectionCount(String(MAX_P2P_PEER_CONNECTIONS))).toBe(MAX_P2P_PEER_CONNECTIONS);
    for (const bad of [0, MAX_P2P_PEER_CONNECTIONS + 1, 1.5, '2x', null, undefined, -1]) expect(p2pPeerConnectionCount(bad)).toBe(DEFAULT_P2P_PEER_CONNECTIONS);
  });

  it('spreads the pool evenly, the earlier peer connections taking the remainder, at least one channel each, never over MAX_P2P_CHANNELS', () => {
    const spread = (channels: number, pcs: number) => Array.from({ length: pcs }, (_, i) => channelsOfPeerConnection(channels, pcs, i));
    expect(spread(4, 1)).toEqual([4]);
    expect(spread(4, 2)).toEqual([2, 2]);
    expect(spread(4, 3)).toEqual([2, 1, 1]);
    expect(spread(1, 2)).toEqual([1, 1]);
    for (let c = 1; c <= MAX_P2P_CHANNELS; c++)
      for (let n = 1; n <= MAX_P2P_PEER_CONNECTIONS; n++) {
        const total = spread(c, n).reduce((a, b) => a + b, 0);
        expect(total).toBe(Math.max(c, n));
        expect(total).toBeLessThanOrEqual(MAX_P2P_CHANNELS);
      }
  });

  it("names a viewer's later peer connection with pc 1 … MAX - 1 both ways; the first is untagged", () => {
    expect(parseViewerSignal('{"type":"offer","sdp":"x","pc":1}')).toEqual({ type: 'offer', sdp: 'x', pc: 1 });
    expect(parseViewerSignal('{"type":"offer","sdp":"x","pc":0}')).toEqual({ type: 'offer', sdp: 'x' });
    expect(parseViewerSignal('{"type":"bye","pc":3}')).toEqual({ type: 'bye', pc: 3 });
    expect(parseViewerSignal('{"type":"connection-state","state":"failed","pc":2}')).toEqual({ type: 'connection-state', state: 'failed', pc: 2 });
    expect(parseHostSignal('{"type":"answer","sdp":"y","pc":2}')).toEqual({ type: 'answer', sdp: 'y', pc: 2 });
    expect(parseHostSignal('{"type":"error","code":"ERR_TOO_MANY_PEERS","message":"m","pc":1}')).toEqual({
      type: 'error',
      code: 'ERR_TOO_MANY_PEERS',
      message: 'm',
      pc: 1,
    });
    for (const bad of [MAX_P2P_PEER_CONNECTIONS, -1, 1.5, '1', null])
      expect(() => parseViewerSignal(JSON.stringify({ type: 'end-of-candidates', pc: bad }))).toThrow(/"pc" must be an integer/);
  });
});

describe('ConnectionPool.pick', () => {
  it('puts a new stream on the ready connection with the fewest open streams, the earliest on a tie', async () => {
    const pool = new ConnectionPool();
    expect(pool.pick()).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const p = connectedPair();
      pairs.push(p);
      p.server.on('stream', () => undefined); // never answers: every stream stays open
      pool.add(p.client);
    }
    await waitFor(() => pool.connections.every((c) => c.isReady), 'every connection ready');
    const [a, b, c] = pool.connections;
    const open = () => pool.pick()!.open('http', { method: 'GET', target: '/', headers: [] }, { end: true });
    expect(pool.pick()).toBe(a);
    open();
    expect(pool.pick()).toBe(b);
    open();
    expect(pool.pick()).toBe(c);
    open();
    expect(pool.pick()).toBe(a);
    expect(pool.streamCount).toBe(3);
    // A connection that is closed is never picked.
    a!.close();
    expect(pool.pick()).toBe(b);
  });
});
