/**
 * Preload for the agent in tests that need P2P slow for bulk on loopback,
 * where it is otherwise fast (see throttledP2PAgentEnv in stack.ts): loaded
 * with NODE_OPTIONS=--require into the agent and the P2P host process it forks,
 * it makes every @roamhq/wrtc data channel of that process send at most
 * THROTTLE_P2P_SEND_BYTES_PER_S bytes a second. A token bucket with a 64 KiB
 * burst, so a small response still leaves at once; bytes waiting in it count
 * in the channel's bufferedAmount, so the sender's backpressure sees them as
 * it sees wrtc's own buffer. Nothing in the agent knows of it.
 */
'use strict';
const onWrtcLoad = require('./on-wrtc-load.cjs');

const bytesPerS = Number(process.env.THROTTLE_P2P_SEND_BYTES_PER_S);
if (!(bytesPerS > 0))
  throw new Error(`throttle-p2p-send.cjs: THROTTLE_P2P_SEND_BYTES_PER_S must be a positive number, not ${process.env.THROTTLE_P2P_SEND_BYTES_PER_S}`);

/** Bytes that may leave at once after an idle period: one 64 KiB message. */
const BURST_BYTES = 64 * 1024;
/** Interval of the release timer, ms (small against any transfer the tests time). */
const TICK_MS = 10;

/** @param {{ prototype: { send(m: unknown): void } }} RTCDataChannel */
function throttle(RTCDataChannel) {
  const proto = RTCDataChannel.prototype;
  const send = proto.send;
  const nativeBuffered = Object.getOwnPropertyDescriptor(proto, 'bufferedAmount').get;
  const nativeState = Object.getOwnPropertyDescriptor(proto, 'readyState').get;
  /** @type {WeakMap<object, { queue: ArrayBuffer[], queued: number, tokens: number, last: number, timer: NodeJS.Timeout | undefined }>} */
  const buckets = new WeakMap();

  const bucketOf = (dc) => {
    let b = buckets.get(dc);
    if (b) return b;
    b = { queue: [], queued: 0, tokens: BURST_BYTES, last: Date.now(), timer: undefined };
    buckets.set(dc, b);
    const bucket = b;
    // The prototype's accessor cannot be replaced (not configurable); each channel gets its own.
    Object.defineProperty(dc, 'bufferedAmount', { get: () => nativeBuffered.call(dc) + bucket.queued });
    dc.addEventListener('close', () => {
      if (bucket.timer !== undefined) clearTimeout(bucket.timer);
      bucket.queue.length = 0;
      bucket.queued = 0;
    });
    return bucket;
  };

  const release = (dc, b) => {
    b.timer = undefined;
    const now = Date.now();
    b.tokens = Math.min(Math.max(BURST_BYTES, b.queue[0]?.byteLength ?? 0), b.tokens + ((now - b.last) * bytesPerS) / 1000);
    b.last = now;
    while (b.queue.length > 0 && b.tokens >= b.queue[0].byteLength) {
      const m = b.queue.shift();
      b.tokens -= m.byteLength;
      b.queued -= m.byteLength;
      if (nativeState.call(dc) === 'open') send.call(dc, m);
    }
    if (b.queue.length > 0) b.timer = setTimeout(() => release(dc, b), TICK_MS);
  };

  proto.send = function throttledSend(m) {
    const b = bucketOf(this);
    b.queue.push(m);
    b.queued += m.byteLength;
    release(this, b);
  };
}

onWrtcLoad((wrtc) => throttle(wrtc.RTCDataChannel));
