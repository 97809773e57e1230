/**
 * Runs a Connection over an RTCDataChannel (browser or @roamhq/wrtc): whole frames packed into messages
 * up to the size both ends announced; backpressure from bufferedAmount. docs/PROTOCOL.md §Data channel.
 */
import { MAX_FRAME_BYTES } from '../constants';
import { Connection, type ConnectionOptions } from '../connection';
import { TailProber } from './tail-probe';

/** Largest message any Wingman end sends: what Chromium and @roamhq/wrtc both announce (a=max-message-size). */
export const DATA_CHANNEL_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * The agent's default message size: 16 KiB held bulk down (a send() and an event per message); 256 KiB was
 * no faster, and a small response waits behind a whole message (docs/benchmarks.md §P2P message size).
 */
export const DATA_CHANNEL_DEFAULT_MESSAGE_BYTES = 64 * 1024;

/** What a peer whose SDP carries no a=max-message-size accepts (RFC 8841 §6). */
export const SDP_DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

const MAX_MESSAGE_SIZE_LINE = /^a=max-message-size:(\d+)\s*$/m;

/** The a=max-message-size a description announces, bytes: 0 is "no limit" (RFC 8841 §6). */
export function maxMessageSizeFromSdp(sdp: string): number {
  const m = MAX_MESSAGE_SIZE_LINE.exec(sdp);
  if (!m) return SDP_DEFAULT_MAX_MESSAGE_BYTES;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : SDP_DEFAULT_MAX_MESSAGE_BYTES;
}

/** Rewrites every a=max-message-size of `sdp` down to `bytes` (lower ones stay), which the browsers honour. */
export function announceMaxMessageSize(sdp: string, bytes: number): string {
  return sdp.replace(/^a=max-message-size:(\d+)(\s*)$/gm, (line, n: string, eol: string) => {
    const announced = Number(n);
    return announced !== 0 && announced <= bytes ? line : `a=max-message-size:${bytes}${eol}`;
  });
}

/**
 * The smaller of what the remote end accepts (RTCSctpTransport.maxMessageSize or its SDP's; 0 = no limit)
 * and this end's cap; never below one whole frame, as frames do not span messages.
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

/** The part of RTCDataChannel used here (the DOM type and wrtc's both fit). */
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

/** The pump stops above this many buffered bytes (Chromium's send() fails past 16 MiB); the low mark is a quarter. */
export const DATA_CHANNEL_HIGH_WATER_BYTES = 1024 * 1024;

/** While the buffer is full, bufferedAmount is polled too: @roamhq/wrtc never fires `bufferedamountlow` (node-webrtc/node-webrtc#305). */
export const DATA_CHANNEL_DRAIN_POLL_MS = 2;

/** A data channel's round trip is several ms even on loopback: the relay's 256 KiB window capped one stream below its rate. */
const DATA_CHANNEL_STREAM_WINDOW_BYTES = 1024 * 1024;

interface DataChannelConnectionOptions extends Omit<ConnectionOptions, 'transport'> {
  /** Sends tail-loss probes after each burst (tail-probe.ts). Default true. */
  tailProbes?: boolean;
}

/** `options.maxMessageBytes`: the negotiated size (dataChannelMessageBytes); MAX_FRAME_BYTES, which any stack accepts, without. */
export function connectionOverDataChannel(dc: DataChannelLike, options: DataChannelConnectionOptions): Connection {
  const { tailProbes = true, ...connectionOptions } = options;
  dc.binaryType = 'arraybuffer';
  const highWater = connectionOptions.highWaterBytes ?? DATA_CHANNEL_HIGH_WATER_BYTES;
  const lowWater = highWater / 4;
  dc.bufferedAmountLowThreshold = lowWater;
  // In @roamhq/wrtc each read of bufferedAmount or readyState is a synchronous call into the signaling
  // thread (~90 µs), so bufferedAmount is read only when an upper bound (last read + bytes sent since)
  // could reach the high-water mark. readyState is still read before every send: a send racing the channel's
  // teardown kills the process (SIGSEGV), 24–29 of 100 P2P hosts whose viewer closed mid-response without it, 1–4 with.
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
    // The agent speaks first: @roamhq/wrtc can deliver a viewer's first messages before the agent's
    // 'datachannel' handler listens (a lost HELLO, then ERR_HELLO_EXPECTED); after the agent's HELLO it listens.
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
