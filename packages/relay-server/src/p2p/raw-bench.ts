/**
 * A raw data channel for benchmarks only: the baseline the protocol is
 * measured against between the same two processes. Enabled on the agent by
 * WINGMAN_BENCH_RAW=1; a viewer opens a second channel labelled
 * RAW_BENCH_LABEL and sends text commands:
 *   "ping:<token>"  → the host answers the same text (round-trip baseline)
 *   "bulk:<bytes>"  → the host sends <bytes> in 16 KiB binary messages with
 *                      bufferedAmount backpressure exactly as the protocol's
 *                      data-channel transport does it (readyState read before
 *                      each send; the buffer's real value read only when last
 *                      read + bytes sent since could reach the high-water
 *                      mark: each read is a ~85 µs call into wrtc's signaling
 *                      thread; polled while full), then "done".
 */
import { DATA_CHANNEL_DRAIN_POLL_MS, MAX_FRAME_BYTES } from '@wingman/protocol';
import type { RtcDataChannel } from './webrtc';

export const RAW_BENCH_LABEL = 'wingman-raw-bench';
/** Largest bulk a viewer may ask for (bounds the loop). */
export const RAW_BENCH_MAX_BYTES = 1024 * 1024 * 1024;
const HIGH_WATER_BYTES = 1024 * 1024;

export function serveRawBench(dc: RtcDataChannel & { send(data: ArrayBuffer | string): void; onbufferedamountlow?: unknown }): void {
  dc.binaryType = 'arraybuffer';
  dc.bufferedAmountLowThreshold = HIGH_WATER_BYTES / 4;
  const block = new Uint8Array(MAX_FRAME_BYTES).fill(0x5a).buffer;
  // Upper bound of the channel's buffer: the last value read + bytes sent since
  // (per channel: a bulk may start while the previous one still drains).
  let bound = 0;
  dc.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    const [cmd, arg] = ev.data.split(':', 2);
    if (cmd === 'ping') return dc.send(ev.data);
    if (cmd !== 'bulk') return;
    let left = Math.min(Number(arg) || 0, RAW_BENCH_MAX_BYTES);
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      try {
        while (left > 0 && dc.readyState === 'open') {
          if (bound >= HIGH_WATER_BYTES) bound = dc.bufferedAmount;
          if (bound >= HIGH_WATER_BYTES) {
            // wrtc never fires bufferedamountlow: poll, as the protocol's data-channel transport does.
            timer ??= setTimeout(pump, DATA_CHANNEL_DRAIN_POLL_MS);
            return;
          }
          const n = Math.min(left, MAX_FRAME_BYTES);
          dc.send(n === MAX_FRAME_BYTES ? block : block.slice(0, n));
          bound += n;
          left -= n;
        }
        if (left === 0 && dc.readyState === 'open') {
          left = -1;
          dc.send('done');
        }
      } catch (err) {
        // The channel closed under the loop (send throws then); said, as a
        // stalled bench would otherwise only show as the viewer's timeout.
        left = -1;
        process.stderr.write(`wingman raw bench: send failed (${err instanceof Error ? err.message : String(err)})\n`);
      }
    };
    pump();
  });
}
