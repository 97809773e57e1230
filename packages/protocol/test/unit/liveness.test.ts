import { ChannelLiveness } from '../../src';

/** A data channel as the liveness rule sees it: byte counters and a send buffer that drains as the network allows. */
class FakeChannel {
  bytesReceived = 0;
  bytesSent = 0;
  buffered = 0;
  bufferedAmount = () => this.buffered;
  /** The application writes `n` bytes: they enter the send buffer. */
  write(n: number): void {
    this.bytesSent += n;
    this.buffered += n;
  }
  /** The network carries `n` bytes of the send buffer. */
  drain(n: number): void {
    this.buffered -= Math.min(n, this.buffered);
  }
}

const MAX_MISSED = 2;

describe('ChannelLiveness', () => {
  it('keeps a channel alive while an upload drains its send buffer, although every PING times out', () => {
    const ch = new FakeChannel();
    const liveness = new ChannelLiveness(ch, MAX_MISSED);
    ch.write(16 * 1024 * 1024);
    // Each PING interval the lossy path carries 300 KB of the upload while the PING waits behind it.
    const verdicts: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      ch.drain(300_000);
      ch.write(300_000);
      verdicts.push(liveness.timedOut());
    }
    expect(verdicts).toEqual(new Array(10).fill(false));
    expect(liveness.missedPings).toBe(0);
  });

  it('keeps a channel alive while the peer keeps sending, although its PONGs are late', () => {
    const ch = new FakeChannel();
    const liveness = new ChannelLiveness(ch, MAX_MISSED);
    const verdicts: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      ch.bytesReceived += 64 * 1024;
      verdicts.push(liveness.timedOut());
    }
    expect(verdicts).toEqual([false, false, false, false, false]);
  });

  it('declares a channel dead after MAX_MISSED timed-out PINGs in a row with nothing moving', () => {
    const ch = new FakeChannel();
    ch.write(4 * 1024 * 1024);
    const liveness = new ChannelLiveness(ch, MAX_MISSED);
    ch.write(1024 * 1024); // still written into a buffer that no longer drains
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });

  it('declares an idle channel dead after MAX_MISSED timed-out PINGs', () => {
    const liveness = new ChannelLiveness(new FakeChannel(), MAX_MISSED);
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });

  it('counts missed PINGs only in a row: progress or a PONG starts the count again', () => {
    const ch = new FakeChannel();
    const liveness = new ChannelLiveness(ch, MAX_MISSED);
    expect(liveness.timedOut()).toBe(false);
    liveness.answered();
    expect(liveness.timedOut()).toBe(false);
    ch.bytesReceived += 10;
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });
});
