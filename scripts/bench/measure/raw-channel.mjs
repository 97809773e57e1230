/**
 * The baseline of the P2P rows: a raw data channel to the bench's raw host
 * (lib/raw-host.mjs, a bare wrtc peer in another Node process):
 *   "ping:<n>"   echoed as is        → round-trip time, no protocol at all
 *   "bulk:<N>"   N bytes in 16 KiB binary messages, then "done" → MB/s
 */
import { MAX_LATENCY_SAMPLES, PROBE_TIMEOUT_MS, TRANSFER_TIMEOUT_MS } from '../lib/config.mjs';
import { percentiles } from './percentiles.mjs';

/** Round trips are counted until the duration passes or this many are done. */
const MAX_PINGS = 1_000_000;
/**
 * Bulk is asked for in pieces of at most this much. The raw host's channel
 * sends until its bufferedAmount passes 1 MiB (HIGH_WATER_BYTES in
 * lib/raw-host.mjs) and then waits for 'bufferedamountlow', which @roamhq/wrtc
 * never fires (node-webrtc/node-webrtc#305: not implemented; measured here: the
 * transfer stops after 3-6 MB with bufferedAmount back at 0). A piece of 1 MiB
 * never needs the event. Between pieces the channel idles for one round trip
 * (~0.5 ms per ~60 ms piece), so the raw figure is at most ~1 % low.
 */
const RAW_PIECE_BYTES = 1024 * 1024;

/**
 * Wraps an open raw channel: one message listener, one waiter at a time.
 * @param {any} dc an open RTCDataChannel (wrtc)
 */
export function createRawChannel(dc) {
  dc.binaryType = 'arraybuffer';
  let onMessage = null;
  let onClose = null;
  dc.addEventListener('message', (ev) => onMessage?.(ev.data));
  dc.addEventListener('close', () => onClose?.());

  /** Sends `text` and resolves when `accept(data)` returns true for a message. */
  function exchange(text, accept, timeoutMs) {
    return new Promise((resolve, reject) => {
      const settle = (err) => {
        clearTimeout(timer);
        onMessage = null;
        onClose = null;
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => settle(new Error(`raw channel: no answer to "${text.slice(0, 20)}" within ${timeoutMs} ms`)), timeoutMs);
      onMessage = (data) => {
        if (accept(data)) settle();
      };
      onClose = () => settle(new Error('raw channel closed'));
      if (dc.readyState !== 'open') return settle(new Error(`raw channel is ${dc.readyState}`));
      dc.send(text);
    });
  }

  return {
    /**
     * Sequential pings for `durationS`.
     * @returns {Promise<{ count: number, p50Ms: number, p99Ms: number }>}
     */
    async ping(durationS) {
      const samples = new Float64Array(Math.min(MAX_LATENCY_SAMPLES, MAX_PINGS));
      let n = 0;
      const deadline = performance.now() + durationS * 1000;
      while (performance.now() < deadline && n < samples.length) {
        const token = `ping:${n}`;
        const t0 = performance.now();
        await exchange(token, (d) => d === token, PROBE_TIMEOUT_MS);
        samples[n++] = performance.now() - t0;
      }
      const [p50Ms, p99Ms] = percentiles(samples, n, [50, 99]);
      return { count: n, p50Ms, p99Ms };
    },
    /** @returns {Promise<number>} MB/s of one bulk transfer of `bytes` */
    async bulk(bytes) {
      let got = 0;
      const t0 = performance.now();
      const countUntilDone = (d) => {
        if (typeof d !== 'string') got += d.byteLength;
        return d === 'done';
      };
      for (let asked = 0; asked < bytes; asked += RAW_PIECE_BYTES) {
        const left = TRANSFER_TIMEOUT_MS - (performance.now() - t0);
        if (left <= 0) throw new Error(`raw channel: ${got} of ${bytes} bytes within ${TRANSFER_TIMEOUT_MS} ms`);
        await exchange(`bulk:${Math.min(RAW_PIECE_BYTES, bytes - asked)}`, countUntilDone, left);
      }
      if (got !== bytes) throw new Error(`raw channel delivered ${got} of ${bytes} bytes`);
      return bytes / 1e6 / ((performance.now() - t0) / 1000);
    },
  };
}
