/**
 * Notices, as it happens, that the data channel stalls: requests wait on it,
 * nothing has arrived for a while, and a PING sent then is not answered
 * either. On one ordered data channel a lost packet holds every message
 * behind it until SCTP retransmits it, and SCTP has no tail-loss probe: on a
 * lossy link (2 % each way, 60 ms RTT) a page load's answers, which the agent
 * sent within ~100 ms, arrived in clumps 300–600 ms apart for seconds. The
 * Service Worker, told at once, sends the waiting requests that may be sent
 * twice over the relay too (sw/hedged-fetch.ts) and counts the stall against
 * P2P (sw/path-choice.ts) — the first visit has no other measurement yet.
 *
 * The PING tells a stalled channel from a slow app (a long-poll, a slow API):
 * the agent answers PINGs at once, so a PONG comes back in about one RTT
 * unless the channel holds it. Silence is measured from the last byte
 * received (Connection.bytesReceived, polled while requests wait) and from
 * when the wait began.
 */
import type { Connection } from '@wingman/protocol';
import {
  STALL_CHECK_INTERVAL_MS,
  STALL_DEFAULT_RTT_MS,
  STALL_PROBE_BACKOFF,
  STALL_QUIET_EXTRA_MS,
  STALL_QUIET_FACTOR,
  STALL_QUIET_MIN_MS,
} from '../shared/constants';

export interface StallWatchOptions {
  /** The open connection, if any. */
  connection(): Connection | undefined;
  /** Requests waiting on the channel (for their head or their body). */
  waiting(): number;
  /**
   * The channel's latest RTT, ms (undefined before the first PONG). The watch
   * keeps the lowest it saw per connection: a PING that met a stall measures
   * the stall (seen: 0.4–2.9 s at 2 % loss against a 62 ms path), and a quiet
   * period grown from it would let the next stalls pass unnoticed.
   */
  rttMs(): number | undefined;
  /** Called once per stall (again only after something arrived). */
  onStall(): void;
  /** Clock, ms. Default performance.now(). */
  now?: () => number;
}

export interface StallWatch {
  /** A request started waiting: look from now on (the watch sleeps while nothing waits). */
  poke(): void;
  stop(): void;
}

/** How long the channel may stay quiet while requests wait, ms, and how long a PING may then go unanswered. */
export function quietMs(rttMs: number | undefined): number {
  const rtt = rttMs ?? STALL_DEFAULT_RTT_MS;
  return Math.max(STALL_QUIET_FACTOR * rtt, rtt + STALL_QUIET_EXTRA_MS, STALL_QUIET_MIN_MS);
}

export function createStallWatch(options: StallWatchOptions): StallWatch {
  const now = options.now ?? (() => performance.now());
  let timer: ReturnType<typeof setInterval> | undefined;
  let conn: Connection | undefined;
  let bytes = 0;
  let lastRxAt = 0;
  let waitingSince: number | undefined;
  let probeAt: number | undefined;
  let nextProbeAt = 0;
  let stalled = false;
  let lastTick = 0;
  /** Lowest RTT seen on `conn`, ms. */
  let bestRtt: number | undefined;
  const lowest = (ms: number | undefined) => {
    if (ms !== undefined && Number.isFinite(ms) && ms >= 0 && (bestRtt === undefined || ms < bestRtt)) bestRtt = ms;
  };

  const sleep = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  function tick(): void {
    const t = now();
    const sinceTick = t - lastTick;
    lastTick = t;
    const c = options.connection();
    if (!c) {
      conn = undefined;
      return sleep();
    }
    if (c !== conn) bestRtt = undefined;
    lowest(options.rttMs());
    if (c !== conn || c.bytesReceived !== bytes) {
      // A PING answered in time: the app is slow, not the channel; look again a few quiet periods later.
      if (probeAt !== undefined && c === conn) nextProbeAt = t + STALL_PROBE_BACKOFF * quietMs(bestRtt);
      conn = c;
      bytes = c.bytesReceived;
      lastRxAt = t;
      probeAt = undefined;
      stalled = false;
    }
    if (options.waiting() === 0) {
      waitingSince = undefined;
      probeAt = undefined;
      return sleep();
    }
    waitingSince ??= t;
    const quiet = quietMs(bestRtt);
    // The page's main thread was busy for a quiet period (the app's own work, a loaded machine):
    // what arrived meanwhile may not have been read yet, so this check decides nothing.
    if (stalled || sinceTick > Math.max(3 * STALL_CHECK_INTERVAL_MS, quiet)) return;
    if (probeAt === undefined) {
      if (t - Math.max(lastRxAt, waitingSince) < quiet || t < nextProbeAt) return;
      probeAt = t;
      // Its PONG moves bytesReceived; an error (channel closing) is the connection's own business.
      c.ping().then(
        (ms) => conn === c && lowest(ms),
        () => undefined,
      );
      return;
    }
    if (t - probeAt < quiet) return;
    stalled = true;
    probeAt = undefined;
    try {
      options.onStall();
    } catch {
      /* a listener's failure must not stop the watch */
    }
  }

  return {
    poke() {
      if (timer !== undefined) return;
      lastTick = now();
      timer = setInterval(tick, STALL_CHECK_INTERVAL_MS);
    },
    stop: sleep,
  };
}
