/**
 * The far end of a raw data channel, for benchmarks and the lab's bulk floor
 * only (never part of the agent): answers text commands on an @roamhq/wrtc
 * data channel with no Wingman protocol in between.
 *   "ping:<token>"  → the same text back (round-trip baseline)
 *   "bulk:<bytes>"  → <bytes> in binary messages of `messageBytes`, with
 *                      bufferedAmount backpressure exactly as the protocol's
 *                      data-channel transport does it (the buffer's real
 *                      value read only when last read + bytes sent since
 *                      could reach the high-water mark: each read is a
 *                      ~85 µs call into wrtc's signaling thread; polled while
 *                      full), then "done"
 *   "up:<bytes>"    → counts the binary messages that follow; once <bytes>
 *                      arrived, "got:<bytes>"
 */
import { createRequire } from 'node:module';
import { PROTOCOL_MODULE } from './config.mjs';

const require = createRequire(import.meta.url);
const { DATA_CHANNEL_DRAIN_POLL_MS, DATA_CHANNEL_HIGH_WATER_BYTES, MAX_FRAME_BYTES } = require(PROTOCOL_MODULE);

/** Largest transfer either way a peer may ask for (bounds the loops). */
export const RAW_BENCH_MAX_BYTES = 1024 * 1024 * 1024;

/**
 * @param {any} dc an @roamhq/wrtc RTCDataChannel
 * @param {{ messageBytes?: number }} [options] size of the bulk messages (default: one frame, 16 KiB)
 */
export function serveRawBench(dc, { messageBytes = MAX_FRAME_BYTES } = {}) {
  dc.binaryType = 'arraybuffer';
  dc.bufferedAmountLowThreshold = DATA_CHANNEL_HIGH_WATER_BYTES / 4;
  const block = new Uint8Array(messageBytes).fill(0x5a).buffer;
  // Upper bound of the channel's buffer: the last value read + bytes sent since.
  let bound = 0;
  // Upload: bytes still expected (-1: none asked) and received so far.
  let upLeft = -1;
  let upAsked = 0;
  dc.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') {
      if (upLeft < 0) return;
      upLeft -= ev.data.byteLength;
      if (upLeft <= 0) {
        dc.send(`got:${upAsked - upLeft}`);
        upLeft = -1;
      }
      return;
    }
    const [cmd, arg] = ev.data.split(':', 2);
    if (cmd === 'ping') return dc.send(ev.data);
    if (cmd === 'up') {
      upAsked = Math.min(Number(arg) || 0, RAW_BENCH_MAX_BYTES);
      upLeft = upAsked;
      return;
    }
    if (cmd !== 'bulk') return;
    let left = Math.min(Number(arg) || 0, RAW_BENCH_MAX_BYTES);
    let timer;
    const pump = () => {
      timer = undefined;
      try {
        while (left > 0 && dc.readyState === 'open') {
          if (bound >= DATA_CHANNEL_HIGH_WATER_BYTES) bound = dc.bufferedAmount;
          if (bound >= DATA_CHANNEL_HIGH_WATER_BYTES) {
            // wrtc never fires bufferedamountlow: poll, as the protocol's data-channel transport does.
            timer ??= setTimeout(pump, DATA_CHANNEL_DRAIN_POLL_MS);
            return;
          }
          const n = Math.min(left, messageBytes);
          dc.send(n === messageBytes ? block : block.slice(0, n));
          bound += n;
          left -= n;
        }
        if (left === 0 && dc.readyState === 'open') {
          left = -1;
          dc.send('done');
        }
      } catch (err) {
        left = -1;
        process.stderr.write(`raw bench host: send failed (${err instanceof Error ? err.message : String(err)})\n`);
      }
    };
    pump();
  });
}

/** ICE gathering on loopback takes milliseconds, with a STUN server one round trip more; a bound in case it never completes. */
const GATHER_TIMEOUT_MS = 5_000;

/**
 * Resolves once ICE gathering completed (or GATHER_TIMEOUT_MS passed: what was gathered goes).
 * @param {any} pc an @roamhq/wrtc RTCPeerConnection
 */
export function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.onicecandidate = (ev) => {
      if (!ev.candidate) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
}
