/**
 * The data-channel pool's decisions (transports/channel-pool.ts) on real
 * Connections: the channel count a page or configuration may ask for, and
 * which connection a new stream goes on.
 */
import { ConnectionPool, DEFAULT_P2P_CHANNELS, MAX_P2P_CHANNELS, p2pChannelCount } from '@wingman/protocol';
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
