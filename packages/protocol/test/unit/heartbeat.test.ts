import { startHeartbeat, type HeartbeatOptions, type ProtocolError } from '../../src';

/** PING frame size the fake counts as sent (header + 8-byte payload). */
const PING_BYTES = 17;
const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 500;

/** A Connection as the heartbeat sees it: the peer answers after `rttMs`, or never while `silent`. */
class FakeConnection {
  bytesReceived = 0;
  bytesSent = 0;
  isClosed = false;
  silent = false;
  rttMs = 20;
  /** The transport's send buffer: a PING leaves at once unless it queues behind a backlog. */
  buffered = 0;
  /** Times (fake clock) at which PINGs were sent. */
  readonly pings: number[] = [];

  ping(timeoutMs: number): Promise<number> {
    this.pings.push(Date.now());
    this.bytesSent += PING_BYTES;
    if (this.buffered > 0) this.buffered += PING_BYTES;
    return new Promise((resolve, reject) => {
      if (this.silent) setTimeout(() => reject(new Error('timeout')), timeoutMs);
      else
        setTimeout(() => {
          this.bytesReceived += PING_BYTES;
          resolve(this.rttMs);
        }, this.rttMs);
    });
  }
}

function start(conn: FakeConnection, overrides: Partial<HeartbeatOptions> = {}) {
  const dead: ProtocolError[] = [];
  const rtts: number[] = [];
  const stop = startHeartbeat(conn, {
    intervalMs: INTERVAL_MS,
    timeoutMs: TIMEOUT_MS,
    maxMissed: 2,
    bufferedAmount: () => conn.buffered,
    onRtt: (ms) => rtts.push(ms),
    onDead: (e) => dead.push(e),
    ...overrides,
  });
  return { stop, dead, rtts };
}

describe('startHeartbeat', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('pings every interval, first after one interval, and reports each round trip', async () => {
    const conn = new FakeConnection();
    const { stop, rtts, dead } = start(conn);
    await jest.advanceTimersByTimeAsync(3_500);
    expect(conn.pings).toEqual([1_000, 2_000, 3_000]);
    expect(rtts).toEqual([20, 20, 20]);
    expect(dead).toEqual([]);
    stop();
  });

  it('pings at once when asked to, then every interval', async () => {
    const conn = new FakeConnection();
    const { stop } = start(conn, { immediate: true });
    await jest.advanceTimersByTimeAsync(2_500);
    expect(conn.pings).toEqual([0, 1_000, 2_000]);
    stop();
  });

  it('declares a silent channel dead after maxMissed timed-out PINGs, once, and stops pinging', async () => {
    const conn = new FakeConnection();
    conn.silent = true;
    const { dead } = start(conn, { maxMissed: 3 });
    await jest.advanceTimersByTimeAsync(10_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.code).toBe('ERR_TIMEOUT');
    // Dead when the third PING (sent at 3 s) timed out, 0.5 s later.
    expect(conn.pings).toEqual([1_000, 2_000, 3_000]);
  });

  it('declares an idle channel dead although its own PINGs leave the send buffer', async () => {
    // The kernel takes our PINGs in whether or not the peer is there: that is no progress.
    const conn = new FakeConnection();
    conn.silent = true;
    const { dead } = start(conn, { maxMissed: 1 });
    await jest.advanceTimersByTimeAsync(1_600);
    expect(dead.map((e) => e.code)).toEqual(['ERR_TIMEOUT']);
  });

  it('keeps a channel alive while its PINGs time out but bytes keep arriving from the peer', async () => {
    const conn = new FakeConnection();
    conn.silent = true;
    const { stop, dead } = start(conn, { maxMissed: 1 });
    for (let i = 0; i < 10; i++) {
      conn.bytesReceived += 64 * 1024; // a download that moves while the PONGs wait behind it
      await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    }
    expect(dead).toEqual([]);
    expect(conn.pings).toHaveLength(10);
    stop();
  });

  it('keeps a channel alive while its PINGs time out but a backlog in its send buffer drains', async () => {
    const conn = new FakeConnection();
    conn.silent = true;
    conn.buffered = 4 * 1024 * 1024;
    conn.bytesSent = conn.buffered;
    const { stop, dead } = start(conn, { maxMissed: 1 });
    for (let i = 0; i < 6; i++) {
      conn.buffered -= 300_000; // the path carries 300 KB of the upload per interval
      await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    }
    expect(dead).toEqual([]);
    // The backlog stops draining: the next timed-out PING finds nothing moved.
    await jest.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(dead.map((e) => e.code)).toEqual(['ERR_TIMEOUT']);
    stop();
  });

  it('counts misses only in a row: a PONG starts the count again', async () => {
    const conn = new FakeConnection();
    const { stop, dead } = start(conn, { maxMissed: 2 });
    for (let i = 0; i < 6; i++) {
      conn.silent = i % 2 === 0; // every other PING answered
      await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    }
    expect(dead).toEqual([]);
    stop();
  });

  it('sends one PING at a time: with a timeout longer than the interval, the next waits for the verdict', async () => {
    const conn = new FakeConnection();
    conn.silent = true;
    const { stop } = start(conn, { timeoutMs: 2_500, maxMissed: 5 });
    await jest.advanceTimersByTimeAsync(6_100);
    expect(conn.pings).toHaveLength(3);
    // Each PING goes out only once the previous one timed out (2.5 s), not every 1 s.
    expect(conn.pings[1]! - conn.pings[0]!).toBeGreaterThanOrEqual(2_500);
    expect(conn.pings[2]! - conn.pings[1]!).toBeGreaterThanOrEqual(2_500);
    stop();
  });

  it('ends quietly when the connection closes: no verdict of death', async () => {
    const conn = new FakeConnection();
    conn.silent = true;
    const { dead } = start(conn, { maxMissed: 1 });
    await jest.advanceTimersByTimeAsync(1_100);
    conn.isClosed = true;
    await jest.advanceTimersByTimeAsync(5_000);
    expect(dead).toEqual([]);
    expect(conn.pings).toEqual([1_000]);
  });

  it('stops on the returned function and on an aborted signal', async () => {
    const a = new FakeConnection();
    const b = new FakeConnection();
    const controller = new AbortController();
    const { stop } = start(a);
    start(b, { signal: controller.signal });
    await jest.advanceTimersByTimeAsync(1_500);
    stop();
    controller.abort();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(a.pings).toEqual([1_000]);
    expect(b.pings).toEqual([1_000]);
    const c = new FakeConnection();
    start(c, { signal: controller.signal, immediate: true });
    expect(c.pings).toEqual([]);
  });

  it('refuses a policy that could never declare anything', () => {
    expect(() => start(new FakeConnection(), { maxMissed: 0 })).toThrow(RangeError);
    expect(() => start(new FakeConnection(), { intervalMs: 0 })).toThrow(RangeError);
  });
});
