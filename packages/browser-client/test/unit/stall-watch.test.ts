/**
 * The shell's stall watch over two real protocol Connections joined in
 * memory, whose server → client direction can be held (as SCTP holds an
 * ordered channel behind a lost packet): a held channel with requests
 * waiting is reported once per stall; a quiet channel whose PINGs come back
 * (a slow app) is not; nothing is reported while nothing waits.
 */
import { Connection } from '@wingman/protocol';
import { createStallWatch, quietMs } from '../../src/page/stall-watch';

jest.setTimeout(20_000);

/** The channel's RTT as the watch is told it: the quiet period is then STALL_QUIET_MIN_MS. */
const RTT_MS = 10;
/** Long enough for several quiet periods, a PING and its wait, on a loaded machine. */
const LOOK_MS = 10 * quietMs(RTT_MS);

interface Link {
  client: Connection;
  /** Holds (true) or releases (false) what the server sends; held messages arrive in order on release. */
  hold(on: boolean): void;
  close(): void;
}

function link(): Link {
  let client!: Connection;
  let server!: Connection;
  let held = false;
  const queue: Uint8Array[] = [];
  const deliver = (to: () => Connection, m: Uint8Array) => setImmediate(() => to().receive(m));
  const close = () => setImmediate(() => (client.transportClosed(), server.transportClosed()));
  client = new Connection({ role: 'client', transport: { send: (m) => deliver(() => server, m.slice()), bufferedAmount: () => 0, close } });
  server = new Connection({
    role: 'server',
    transport: {
      send: (m) => (held ? queue.push(m.slice()) : deliver(() => client, m.slice())),
      bufferedAmount: () => 0,
      close,
    },
  });
  return {
    client,
    hold(on) {
      held = on;
      if (!on) for (const m of queue.splice(0)) deliver(() => client, m);
    },
    close,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('stall watch', () => {
  let l: Link;
  afterEach(() => l?.close());

  async function ready(): Promise<Link> {
    l = link();
    await new Promise<void>((resolve) => l.client.once('ready', () => resolve()));
    return l;
  }

  it('reports a held channel once while requests wait, and again after it moved and stalled anew', async () => {
    const { client, hold } = await ready();
    let waiting = 1;
    let stalls = 0;
    const watch = createStallWatch({ connection: () => client, waiting: () => waiting, rttMs: () => RTT_MS, onStall: () => stalls++ });
    hold(true);
    watch.poke();
    await sleep(LOOK_MS);
    expect(stalls).toBe(1);
    // The retransmission arrives: the held PONG comes in, the channel moves.
    hold(false);
    await sleep(LOOK_MS);
    expect(stalls).toBe(1);
    hold(true);
    await sleep(LOOK_MS);
    expect(stalls).toBe(2);
    waiting = 0;
    watch.stop();
  });

  it('does not report a quiet channel whose PINGs come back (the app is slow), nor one with nothing waiting', async () => {
    const { client, hold } = await ready();
    let waiting = 1;
    let stalls = 0;
    const watch = createStallWatch({ connection: () => client, waiting: () => waiting, rttMs: () => RTT_MS, onStall: () => stalls++ });
    watch.poke();
    await sleep(LOOK_MS);
    expect(stalls).toBe(0);
    waiting = 0;
    hold(true);
    await sleep(LOOK_MS);
    expect(stalls).toBe(0);
    watch.stop();
  });

  it('keeps the lowest RTT it saw: a PING that met a stall does not stretch the quiet period past the next stall', async () => {
    const { client, hold } = await ready();
    // The badge's latest RTT after a PING that waited out a stall.
    const rtts = [RTT_MS, 100 * LOOK_MS];
    let stalls = 0;
    const watch = createStallWatch({ connection: () => client, waiting: () => 1, rttMs: () => rtts.shift() ?? 100 * LOOK_MS, onStall: () => stalls++ });
    watch.poke();
    await sleep(quietMs(RTT_MS));
    hold(true);
    await sleep(LOOK_MS);
    expect(stalls).toBe(1);
    watch.stop();
  });
});
