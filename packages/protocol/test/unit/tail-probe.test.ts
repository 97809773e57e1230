/**
 * When the tail-loss prober sends its probes (docs/PROTOCOL.md §Tail-loss
 * probes), with real timers; the probes on real data channels are in
 * test/integration/tail-probe.test.ts.
 */
import { FrameType, decodeFrames } from '../../src';
import { TailProber, TAIL_PROBE_COUNT, TAIL_PROBE_IDLE_MS, tailProbeMessage } from '../../src/transports/tail-probe';
import { delay, until } from '../../../../test/helpers/wait';

function prober(idleMs = TAIL_PROBE_IDLE_MS) {
  const at: number[] = [];
  /** Probes sent in the same task as the one before (a timer tick, not a loop): there must be none. */
  let sameTask = 0;
  let inTask = false;
  const t0 = Date.now();
  const p = new TailProber({
    idleMs,
    send: () => {
      at.push(Date.now() - t0);
      if (inTask) sameTask++;
      inTask = true;
      queueMicrotask(() => (inTask = false));
    },
  });
  return { p, at, sameTask: () => sameTask };
}

describe('tail-loss prober', () => {
  it('sends its probes once the sends have stopped for the idle time, then nothing', async () => {
    const { p, at, sameTask } = prober(20);
    p.sent();
    await delay(10);
    // Sends that keep coming postpone the probes: they end a burst, not each message.
    p.sent();
    expect(at).toEqual([]);
    await until(() => (at.length >= TAIL_PROBE_COUNT ? true : undefined), { timeoutMs: 2000, intervalMs: 5, what: 'the probes' });
    // …then nothing more.
    await delay(60);
    expect(at.length).toBe(TAIL_PROBE_COUNT);
    // Not before the last send's idle time: 10 ms + 20 ms.
    expect(at[0]).toBeGreaterThanOrEqual(29);
    // One per timer tick, so each leaves in a packet of its own. (Not distinct milliseconds:
    // Node fires a 1 ms timer against the loop's cached clock, so two ticks can share one.)
    expect(sameTask()).toBe(0);
    expect(p.probes).toBe(TAIL_PROBE_COUNT);
  });

  it('sends nothing without a send, and nothing once stopped', async () => {
    const idle = prober(5);
    await delay(40);
    expect(idle.at).toEqual([]);
    const stopped = prober(5);
    stopped.p.sent();
    stopped.p.stop();
    stopped.p.sent();
    await delay(40);
    expect(stopped.at).toEqual([]);
  });

  it('starts the count again when a burst resumes during the probes', async () => {
    const { p, at } = prober(5);
    p.sent();
    await until(() => at.length >= 1, { timeoutMs: 1000, intervalMs: 1, what: 'the first probe' });
    // However many went before the burst resumed, a full count follows it.
    const before = at.length;
    p.sent();
    await until(() => (at.length >= before + TAIL_PROBE_COUNT ? true : undefined), {
      timeoutMs: 2000,
      intervalMs: 5,
      what: 'a full count after the resumed burst',
    });
    await delay(40);
    expect(at.length).toBe(before + TAIL_PROBE_COUNT);
  });

  it('is one PONG frame with an all-zero payload, which answers no PING', () => {
    const frames = decodeFrames(new Uint8Array(tailProbeMessage()));
    expect(frames.map((f) => [f.type, f.streamId, [...f.payload]])).toEqual([[FrameType.PONG, 0, [0, 0, 0, 0, 0, 0, 0, 0]]]);
  });
});
