import { ChannelLiveness, Connection } from '../../src';
import { waitFor } from './pair';

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
    const liveness = new ChannelLiveness(ch, ch.bufferedAmount, MAX_MISSED);
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
    const liveness = new ChannelLiveness(ch, ch.bufferedAmount, MAX_MISSED);
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
    const liveness = new ChannelLiveness(ch, ch.bufferedAmount, MAX_MISSED);
    ch.write(1024 * 1024); // still written into a buffer that no longer drains
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });

  it('declares an idle channel dead after MAX_MISSED timed-out PINGs', () => {
    const liveness = new ChannelLiveness(new FakeChannel(), () => 0, MAX_MISSED);
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });

  it('counts missed PINGs only in a row: progress or a PONG starts the count again', () => {
    const ch = new FakeChannel();
    const liveness = new ChannelLiveness(ch, ch.bufferedAmount, MAX_MISSED);
    expect(liveness.timedOut()).toBe(false);
    liveness.answered();
    expect(liveness.timedOut()).toBe(false);
    ch.bytesReceived += 10;
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(false);
    expect(liveness.timedOut()).toBe(true);
  });
});

describe('ChannelLiveness over real Connections', () => {
  /** Client → server messages wait in a send buffer until `deliver(bytes)` lets the network carry them; server → client is immediate. */
  /** Below one stream window, so that one upload alone fills the send buffer. */
  const HIGH_WATER_BYTES = 128 * 1024;

  function slowUplink() {
    const queue: Uint8Array[] = [];
    let buffered = 0;
    const client: Connection = new Connection({
      role: 'client',
      highWaterBytes: HIGH_WATER_BYTES,
      transport: {
        send: (m) => {
          queue.push(m.slice());
          buffered += m.length;
        },
        bufferedAmount: () => buffered,
        close: () => undefined,
      },
    });
    const server: Connection = new Connection({
      role: 'server',
      transport: { send: (m) => void setImmediate(() => client.receive(m.slice())), bufferedAmount: () => 0, close: () => undefined },
    });
    const deliver = (bytes: number) => {
      let left = bytes;
      while (left > 0 && queue.length > 0) {
        const m = queue.shift()!;
        buffered -= m.length;
        left -= m.length;
        server.receive(m);
      }
      client.drain();
    };
    return { client, server, deliver, bufferedAmount: () => buffered };
  }

  it('keeps the channel alive while PINGs time out behind an upload that drains, and declares it dead once nothing moves', async () => {
    const { client, server, deliver, bufferedAmount } = slowUplink();
    server.on('stream', (s) => s.on('data', () => undefined));
    await waitFor(() => (deliver(Infinity), client.isReady && server.isReady), 'HELLOs');
    const upload = client.open('http', { method: 'POST', target: '/upload', headers: [] });
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < 64; i++) upload.write(chunk);
    await waitFor(() => bufferedAmount() >= HIGH_WATER_BYTES, 'the send buffer filling');

    const liveness = new ChannelLiveness(client, bufferedAmount, 2);
    const verdict = async (carryBytes: number): Promise<boolean | 'answered'> => {
      const pong = client.ping(5);
      deliver(carryBytes);
      return pong.then(
        () => (liveness.answered(), 'answered' as const),
        () => liveness.timedOut(),
      );
    };
    // The uplink carries 16 KiB per PING interval: each PING waits behind the full buffer and times out.
    const whileFlowing = [await verdict(16 * 1024), await verdict(16 * 1024), await verdict(16 * 1024), await verdict(16 * 1024)];
    expect(whileFlowing).toEqual([false, false, false, false]);
    // The uplink stops carrying anything (the channel is gone): two missed PINGs and it is dead.
    const afterStop = [await verdict(0), await verdict(0)];
    expect(afterStop).toEqual([false, true]);
  });
});

describe('ChannelLiveness with no backlog', () => {
  it('declares an idle channel dead although its own PINGs leave the send buffer', () => {
    // The kernel's TCP (or SCTP's) buffer takes the PINGs in whether or not the peer is there.
    const ch = new FakeChannel();
    const liveness = new ChannelLiveness(ch, ch.bufferedAmount, MAX_MISSED);
    const verdicts: boolean[] = [];
    for (let i = 0; i < MAX_MISSED; i++) {
      ch.write(17);
      ch.drain(17);
      verdicts.push(liveness.timedOut());
    }
    expect(verdicts).toEqual([false, true]);
  });
});
