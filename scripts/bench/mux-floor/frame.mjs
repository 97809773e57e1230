/**
 * The mux floor's wire format, the fewest bytes a multiplexed relay can carry
 * its streams in: one WebSocket binary message per frame,
 *
 *   [type: u8][stream id: u32 BE][payload]
 *
 * OPEN (server → agent: connect stream `id` to the app), DATA (bytes),
 * FIN (no more bytes this way), RST (stream gone, both ways),
 * CREDIT (payload u32: the receiver consumed that many more bytes).
 *
 * Flow control is one fixed credit window per stream and direction, the least
 * that keeps memory bounded when one side reads slower than the other writes
 * without stalling the other streams. Left out on purpose: window growth,
 * a connection-level window, priorities, pings, version/hello, reconnects.
 */

export const OPEN = 1;
export const DATA = 2;
export const FIN = 3;
export const RST = 4;
export const CREDIT = 5;

export const HEADER_BYTES = 5;
/** Bytes a sender may have unconsumed at the receiver, per stream and direction (fixed; above a loopback bandwidth-delay product). */
export const STREAM_WINDOW_BYTES = 1024 * 1024;
/** The receiver returns credit once this much is consumed (one CREDIT frame per quarter window). */
export const CREDIT_THRESHOLD_BYTES = STREAM_WINDOW_BYTES / 4;
/** Largest DATA payload: larger writes are split (a TCP read is 64 KiB). */
export const MAX_DATA_BYTES = 256 * 1024;
/** WebSocket message limit on both ends. */
export const MAX_MESSAGE_BYTES = HEADER_BYTES + MAX_DATA_BYTES;
/** The path the agent's WebSocket opens on the server. */
export const AGENT_PATH = '/_mux-floor-agent';

/**
 * One frame as a single buffer (one copy of the payload: ws would otherwise
 * send a message per buffer).
 * @param {number} type
 * @param {number} id
 * @param {Uint8Array} [payload]
 */
export function encodeFrame(type, id, payload) {
  const len = payload ? payload.length : 0;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len);
  buf[0] = type;
  buf.writeUInt32BE(id, 1);
  if (len > 0) buf.set(payload, HEADER_BYTES);
  return buf;
}

/** @param {number} id @param {number} bytes */
export function encodeCredit(id, bytes) {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 4);
  buf[0] = CREDIT;
  buf.writeUInt32BE(id, 1);
  buf.writeUInt32BE(bytes, HEADER_BYTES);
  return buf;
}

/**
 * Checks a received message; returns an error message for a malformed one
 * (the peer is then disconnected), null when it can be dispatched.
 * @param {Buffer} msg
 */
export function frameError(msg) {
  if (msg.length < HEADER_BYTES) return `frame of ${msg.length} bytes`;
  const type = msg[0];
  if (type < OPEN || type > CREDIT) return `unknown frame type ${type}`;
  if (type === CREDIT && msg.length !== HEADER_BYTES + 4) return 'CREDIT frame without a 4-byte payload';
  if (type !== DATA && type !== CREDIT && msg.length !== HEADER_BYTES) return `frame type ${type} with a payload`;
  return null;
}

/**
 * Hands a DATA, CREDIT, FIN or RST frame (checked by frameError) to its stream.
 * @param {Buffer} msg
 * @param {{ onData(payload: Buffer): void, onCredit(bytes: number): void, onFin(): void, onReset(): void }} stream
 */
export function deliverFrame(msg, stream) {
  switch (msg[0]) {
    case DATA:
      return stream.onData(msg.subarray(HEADER_BYTES));
    case CREDIT:
      return stream.onCredit(msg.readUInt32BE(HEADER_BYTES));
    case FIN:
      return stream.onFin();
    case RST:
      return stream.onReset();
  }
}
