/**
 * Runs a Connection over an RTCDataChannel (browser or @roamhq/wrtc). One
 * message carries whole frames up to 16 KiB; backpressure from
 * bufferedAmount + bufferedamountlow.
 * @see https://developer.mozilla.org/en-US/docs/Web/API/RTCDataChannel/bufferedamountlow_event
 */
import { MAX_FRAME_BYTES } from '../constants';
import { Connection, type ConnectionOptions } from '../connection';

/** The part of RTCDataChannel this adapter uses (structural: works with the DOM type and wrtc's). */
export interface DataChannelLike {
  binaryType: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  readonly readyState: string;
  send(data: ArrayBuffer): void;
  close(): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'close' | 'bufferedamountlow' | 'error', fn: () => void): void;
}

/**
 * The pump stops above this many buffered bytes; bufferedamountlow fires at a
 * quarter of it. 1 MiB keeps a LAN/loopback channel busy (Chromium's SCTP send
 * buffer is larger; its send() fails past 16 MiB buffered).
 */
export const DATA_CHANNEL_HIGH_WATER_BYTES = 1024 * 1024;

/**
 * While the pump is stopped by a full buffer, bufferedAmount is also polled at
 * this interval: @roamhq/wrtc never fires `bufferedamountlow` (measured here;
 * node-webrtc/node-webrtc#305), and without the poll a Node sender resumed
 * only when the peer happened to send something. Browsers fire the event; the
 * poll then just finds the buffer drained first.
 */
export const DATA_CHANNEL_DRAIN_POLL_MS = 2;

/**
 * Receive window per stream on a data channel. A data channel's round trip
 * (SCTP in usrsctp threads, DTLS) is several ms even on loopback, so the
 * relay's 256 KiB window capped a single stream below the channel's rate;
 * 1 MiB keeps one stream at the channel's rate while bounding buffering.
 */
export const DATA_CHANNEL_STREAM_WINDOW_BYTES = 1024 * 1024;

export function connectionOverDataChannel(dc: DataChannelLike, options: Omit<ConnectionOptions, 'transport'>): Connection {
  dc.binaryType = 'arraybuffer';
  const highWater = options.highWaterBytes ?? DATA_CHANNEL_HIGH_WATER_BYTES;
  const lowWater = highWater / 4;
  dc.bufferedAmountLowThreshold = lowWater;
  // In @roamhq/wrtc every read of readyState or bufferedAmount is a
  // synchronous call into WebRTC's signaling thread: ~85-90 µs each here
  // (measured), and the pump read bufferedAmount twice per message it sent.
  // So bufferedAmount is read only when an upper bound (the last value read +
  // every byte sent since) could reach the high-water mark: about once per
  // highWater bytes sent, never on small exchanges.
  // readyState IS still read before every send: without that read, wrtc agents
  // died of SIGSEGV in 3 of 5 runs of the browser P2P e2e files (0 of 4 with
  // it), apparently a send racing the channel's teardown on the signaling
  // thread, which the synchronous read serializes.
  let lastRead = 0;
  let sentSinceRead = 0;
  const readBuffered = () => {
    lastRead = dc.bufferedAmount;
    sentSinceRead = 0;
    return lastRead;
  };
  let polling: unknown;
  const poll = () => {
    polling = undefined;
    if (dc.readyState !== 'open') return;
    if (readBuffered() <= lowWater) conn.drain();
    else polling = setTimeout(poll, DATA_CHANNEL_DRAIN_POLL_MS);
  };
  const conn: Connection = new Connection({
    maxMessageBytes: MAX_FRAME_BYTES,
    highWaterBytes: DATA_CHANNEL_HIGH_WATER_BYTES,
    initialWindow: DATA_CHANNEL_STREAM_WINDOW_BYTES,
    ...options,
    transport: {
      send: (m) => {
        if (dc.readyState !== 'open') return;
        // Send an exact ArrayBuffer: some stacks send a view's whole backing buffer.
        const ab = m.byteOffset === 0 && m.byteLength === m.buffer.byteLength ? (m.buffer as ArrayBuffer) : m.slice().buffer;
        dc.send(ab);
        sentSinceRead += ab.byteLength;
      },
      bufferedAmount: () => {
        const bound = lastRead + sentSinceRead;
        if (bound < highWater) return bound;
        const n = readBuffered();
        // The pump stops at the high-water mark: make sure something wakes it.
        if (n >= highWater && polling === undefined) polling = setTimeout(poll, DATA_CHANNEL_DRAIN_POLL_MS);
        return n;
      },
      close: () => dc.close(),
    },
  });
  dc.addEventListener('message', (ev) => {
    const d = ev.data;
    if (d instanceof ArrayBuffer) conn.receive(new Uint8Array(d));
    else if (ArrayBuffer.isView(d)) conn.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    else conn.close('ERR_INVALID_PAYLOAD', 'text message on the data channel');
  });
  // The pump's next bufferedAmount() reads the real value (the bound is at the high-water mark then).
  dc.addEventListener('bufferedamountlow', () => conn.drain());
  dc.addEventListener('close', () => {
    if (polling !== undefined) clearTimeout(polling);
    conn.transportClosed();
  });
  return conn;
}
