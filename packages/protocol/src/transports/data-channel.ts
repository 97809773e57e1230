/**
 * Runs a Connection over an RTCDataChannel (browser or @roamhq/wrtc). One
 * message carries whole frames (each ≤ 16 KiB), packed up to the message size
 * both ends announced (dataChannelMessageBytes); backpressure from
 * bufferedAmount + bufferedamountlow.
 * @see https://developer.mozilla.org/en-US/docs/Web/API/RTCDataChannel/bufferedamountlow_event
 */
import { MAX_FRAME_BYTES } from '../constants';
import { Connection, type ConnectionOptions } from '../connection';
import { TailProber } from './tail-probe';

/**
 * Largest data-channel message any Wingman end sends: what Chromium and
 * @roamhq/wrtc both announce (SDP a=max-message-size). A viewer sends up to
 * what the agent announces, capped by this.
 */
export const DATA_CHANNEL_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * The message size the agent uses and announces by default. Each message
 * costs a send() into SCTP and a 'message' event, so 16 KiB messages held
 * P2P bulk down: 64 KiB took a 50 MiB download through the Service Worker
 * from 7.0 to 11.3 MiB/s (medians of 6). 256 KiB measured the same there and
 * no worse elsewhere on a loaded machine, but every message is the most a
 * small response can wait behind once it is queued, so the smaller of the
 * two (docs/benchmarks.md §P2P message size).
 */
export const DATA_CHANNEL_DEFAULT_MESSAGE_BYTES = 64 * 1024;

/** What a peer whose SDP carries no a=max-message-size accepts (RFC 8841 §6). */
export const SDP_DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const MAX_MESSAGE_SIZE_LINE = /^a=max-message-size:(\d+)\s*$/m;

/**
 * The a=max-message-size a session description announces, bytes: 0 means
 * "no limit" (RFC 8841 §6); absent, the RFC's default of 64 KiB.
 */
export function maxMessageSizeFromSdp(sdp: string): number {
  const m = MAX_MESSAGE_SIZE_LINE.exec(sdp);
  if (!m) return SDP_DEFAULT_MAX_MESSAGE_BYTES;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : SDP_DEFAULT_MAX_MESSAGE_BYTES;
}

/**
 * Rewrites every a=max-message-size of `sdp` down to `bytes` (lines already
 * lower stay). An end that sends this description then receives messages of
 * at most `bytes` from a peer that honours it, as the browsers do.
 */
export function announceMaxMessageSize(sdp: string, bytes: number): string {
  return sdp.replace(/^a=max-message-size:(\d+)(\s*)$/gm, (line, n: string, eol: string) => {
    const announced = Number(n);
    return announced !== 0 && announced <= bytes ? line : `a=max-message-size:${bytes}${eol}`;
  });
}

/**
 * Size of the messages to send on a data channel: the smaller of what the
 * remote end accepts (`remoteMaxBytes`: RTCSctpTransport.maxMessageSize or
 * the remote SDP's a=max-message-size; 0 = no limit) and this end's own cap.
 * Never below one whole frame: frames do not span messages, and every stack
 * in use accepts ≥ 64 KiB.
 */
export function dataChannelMessageBytes(remoteMaxBytes: number | undefined, ownMaxBytes = DATA_CHANNEL_MAX_MESSAGE_BYTES): number {
  const remote =
    remoteMaxBytes === undefined || !Number.isFinite(remoteMaxBytes) || remoteMaxBytes < 0
      ? SDP_DEFAULT_MAX_MESSAGE_BYTES
      : remoteMaxBytes === 0
        ? Infinity
        : remoteMaxBytes;
  return Math.max(MAX_FRAME_BYTES, Math.floor(Math.min(remote, ownMaxBytes)));
}

/** The part of RTCDataChannel this adapter uses (structural: works with the DOM type and wrtc's). */
export interface DataChannelLike {
  binaryType: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  readonly readyState: string;
  send(data: ArrayBuffer): void;
  close(): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown }) => void): void;
  addEventListener(type: 'open' | 'close' | 'bufferedamountlow' | 'error', fn: () => void): void;
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
const DATA_CHANNEL_STREAM_WINDOW_BYTES = 1024 * 1024;

interface DataChannelConnectionOptions extends Omit<ConnectionOptions, 'transport'> {
  /** Sends tail-loss probes after each burst (tail-probe.ts). Default true. */
  tailProbes?: boolean;
}

/**
 * `options.maxMessageBytes` is the negotiated message size
 * (dataChannelMessageBytes); without it, MAX_FRAME_BYTES, which any stack accepts.
 */
export function connectionOverDataChannel(dc: DataChannelLike, options: DataChannelConnectionOptions): Connection {
  const { tailProbes = true, ...connectionOptions } = options;
  dc.binaryType = 'arraybuffer';
  const highWater = connectionOptions.highWaterBytes ?? DATA_CHANNEL_HIGH_WATER_BYTES;
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
  // From a timer, outside any caller's try: a channel whose peer connection is going away
  // may still say 'open' and throw on send (@roamhq/wrtc), which must not end the process.
  const sendProbe = (probe: ArrayBuffer) => {
    try {
      if (dc.readyState === 'open') dc.send(probe);
    } catch {
      prober?.stop();
    }
  };
  const prober = tailProbes ? new TailProber({ send: sendProbe }) : undefined;
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
    ...connectionOptions,
    // The agent speaks first on every channel. Its WebRTC stack (@roamhq/wrtc) can hand a channel the
    // viewer opened its first messages before the agent's 'datachannel' handler runs, to no listener:
    // under load the viewer's HELLO was lost that way and its next frame ended the channel
    // (ERR_HELLO_EXPECTED). The agent listens before it sends its HELLO, so whatever the viewer sends
    // after that HELLO finds the listener.
    speaksSecond: connectionOptions.role === 'client',
    transport: {
      send: (m) => {
        if (dc.readyState !== 'open') return;
        // Send an exact ArrayBuffer: some stacks send a view's whole backing buffer.
        const ab = m.byteOffset === 0 && m.byteLength === m.buffer.byteLength ? (m.buffer as ArrayBuffer) : m.slice().buffer;
        dc.send(ab);
        sentSinceRead += ab.byteLength;
        prober?.sent();
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
      // Read only by those picking a connection for a new stream (a viewer), never per frame.
      isOpen: () => dc.readyState === 'open',
    },
  });
  if (prober) conn.on('close', () => prober.stop());
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
    prober?.stop();
    conn.transportClosed();
  });
  return conn;
}
