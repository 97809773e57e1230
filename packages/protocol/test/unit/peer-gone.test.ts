import { Connection, peerGone } from '../../src';
import { connectedPair, tick, waitFor } from './pair';

/**
 * A client whose messages vanish on the way (its peer is gone) while the
 * peer's still arrive: `talk()` makes the peer send one (a PING of its own).
 */
async function halfDeadPair(): Promise<{ client: Connection; talk(): void; end(): void }> {
  let client!: Connection;
  const server = new Connection({
    role: 'server',
    transport: { send: (m) => void setImmediate(() => client.receive(m.slice())), bufferedAmount: () => 0, close: () => undefined },
  });
  client = new Connection({ role: 'client', transport: { send: () => undefined, bufferedAmount: () => 0, close: () => undefined } });
  // The peer's HELLO, before any check starts.
  await waitFor(() => client.bytesReceived > 0, 'the peer’s HELLO');
  return {
    client,
    talk: () => void server.ping(60_000).catch(() => undefined),
    // The peer's own PING is never answered: ending it clears that PING's timer.
    end: () => {
      server.abandon();
      client.abandon();
    },
  };
}

describe('peerGone', () => {
  it('says a peer that answers the PING is there', async () => {
    const pair = connectedPair();
    await expect(peerGone(pair.client, 1_000)).resolves.toBe(false);
    pair.close();
  });

  it('says a peer from which nothing came back within the timeout is gone', async () => {
    const half = await halfDeadPair();
    const started = Date.now();
    await expect(peerGone(half.client, 50)).resolves.toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    half.end();
  });

  describe('with its PONG late', () => {
    let half: Awaited<ReturnType<typeof halfDeadPair>>;
    beforeEach(async () => {
      half = await halfDeadPair();
      jest.useFakeTimers();
    });
    afterEach(() => {
      jest.useRealTimers();
      half.end();
    });

    it('keeps a peer whose other bytes arrive in the second half of the check', async () => {
      const gone = peerGone(half.client, 100);
      await jest.advanceTimersByTimeAsync(60);
      half.talk();
      await jest.advanceTimersByTimeAsync(60);
      await expect(gone).resolves.toBe(false);
    });

    it('says a peer is gone whose last bytes, sent before it died, arrive only in the first half', async () => {
      const gone = peerGone(half.client, 100);
      half.talk();
      await jest.advanceTimersByTimeAsync(120);
      await expect(gone).resolves.toBe(true);
    });
  });

  it('says a connection that closed during the check is gone', async () => {
    const pair = connectedPair();
    const gone = peerGone(pair.client, 1_000);
    pair.close();
    await tick();
    await expect(gone).resolves.toBe(true);
  });
});
