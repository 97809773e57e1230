/**
 * Test hook only: a data channel whose sends leave at most `bytesPerS` (a
 * token bucket with a THROTTLE_BURST_BYTES burst, so a small response still
 * goes at once). Lets the browser e2e tests make P2P slow for bulk on
 * loopback, where it is otherwise fast. Enabled by the P2P host process's
 * WINGMAN_TEST_P2P_SEND_BYTES_PER_S; never in production use.
 */
import type { DataChannelLike } from '@wingman/protocol';

/** Bytes that may leave at once after an idle period: one 64 KiB message. */
export const THROTTLE_BURST_BYTES = 64 * 1024;
/** Interval of the release timer, ms (small against any transfer the tests time). */
const TICK_MS = 10;

export function throttledChannel<C extends DataChannelLike>(dc: C, bytesPerS: number): C {
  const queue: ArrayBuffer[] = [];
  let queued = 0;
  let tokens = THROTTLE_BURST_BYTES;
  let last = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const release = () => {
    timer = undefined;
    const now = Date.now();
    tokens = Math.min(Math.max(THROTTLE_BURST_BYTES, queue[0]?.byteLength ?? 0), tokens + ((now - last) * bytesPerS) / 1000);
    last = now;
    while (queue.length > 0 && tokens >= queue[0]!.byteLength) {
      const m = queue.shift()!;
      tokens -= m.byteLength;
      queued -= m.byteLength;
      if (dc.readyState === 'open') dc.send(m);
    }
    if (queue.length > 0) timer = setTimeout(release, TICK_MS);
  };
  dc.addEventListener('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    queue.length = 0;
  });
  return new Proxy(dc, {
    get(target, prop) {
      if (prop === 'send')
        return (m: ArrayBuffer) => {
          queue.push(m);
          queued += m.byteLength;
          release();
        };
      if (prop === 'bufferedAmount') return target.bufferedAmount + queued;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value);
    },
  });
}
