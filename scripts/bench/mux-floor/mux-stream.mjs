/**
 * One multiplexed stream on the server side, as the socket of one keep-alive
 * connection to the app: a Duplex that Node's http client can be given by an
 * `http.Agent`'s createConnection. Writes become DATA frames within the
 * stream's credit window; DATA frames from the agent are pushed to the
 * reader, and credit goes back once the reader has taken them.
 *
 * The few net.Socket methods http.Agent calls on a socket it keeps alive are
 * here too: setKeepAlive/ref/unref/setNoDelay do nothing (there is no socket
 * of its own), setTimeout is an idle timer (the Agent destroys a free socket
 * on 'timeout', before the app closes its side of the connection).
 */
import { Duplex } from 'node:stream';
import { CREDIT_THRESHOLD_BYTES, DATA, FIN, MAX_DATA_BYTES, RST, STREAM_WINDOW_BYTES } from './frame.mjs';

export class MuxStream extends Duplex {
  /**
   * @param {{ send(type: number, id: number, payload?: Uint8Array): void, credit(id: number, bytes: number): void, forget(id: number): void }} link
   * @param {number} id
   */
  constructor(link, id) {
    // Not half-open, as a net.Socket: the app closing its side ends the stream,
    // so the http.Agent drops it from its free list instead of reusing a dead connection.
    super({ allowHalfOpen: false });
    this.link = link;
    this.id = id;
    this.sendWindow = STREAM_WINDOW_BYTES;
    /** Bytes received and not yet credited back. */
    this.unacked = 0;
    /** A write waiting for credit: { chunk, offset, cb }. */
    this.blocked = null;
    this.finSent = false;
    this.finReceived = false;
    this.timeout = 0;
    this.idleTimer = null;
    this.active = false;
  }

  // --- what http.Agent calls on a kept-alive socket ---
  setKeepAlive() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  /** Emits 'timeout' each `ms` without a byte either way; 0 turns it off and removes `cb` (net.Socket's contract, which the http client relies on). */
  setTimeout(ms, cb) {
    this.timeout = ms;
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    clearInterval(this.idleTimer);
    this.idleTimer = null;
    if (ms > 0) {
      this.idleTimer = setInterval(() => {
        if (this.active) this.active = false;
        else this.emit('timeout');
      }, ms).unref();
    }
    return this;
  }

  // --- from the link ---
  /** @param {Buffer} payload */
  onData(payload) {
    this.active = true;
    this.unacked += payload.length;
    if (this.unacked > STREAM_WINDOW_BYTES) return void this.destroy(new Error('agent overran the stream window'));
    if (this.push(payload) && this.unacked >= CREDIT_THRESHOLD_BYTES) this.grant();
  }
  onCredit(bytes) {
    this.sendWindow += bytes;
    const b = this.blocked;
    if (b) {
      this.blocked = null;
      this.sendFrom(b.chunk, b.offset, b.cb);
    }
  }
  onFin() {
    this.finReceived = true;
    this.push(null);
    this.forgetIfDone();
  }
  onReset() {
    this.finReceived = this.finSent = true; // nothing more to send either way
    this.destroy(new Error('stream reset by the agent'));
  }

  grant() {
    this.link.credit(this.id, this.unacked);
    this.unacked = 0;
  }

  // --- Duplex ---
  _read() {
    if (this.unacked >= CREDIT_THRESHOLD_BYTES) this.grant();
  }
  _write(chunk, _enc, cb) {
    this.active = true;
    this.sendFrom(chunk, 0, cb);
  }
  sendFrom(chunk, offset, cb) {
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.sendWindow, MAX_DATA_BYTES);
      if (n === 0) {
        this.blocked = { chunk, offset, cb };
        return;
      }
      this.link.send(DATA, this.id, offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n));
      this.sendWindow -= n;
      offset += n;
    }
    cb();
  }
  _final(cb) {
    this.finSent = true;
    this.link.send(FIN, this.id);
    this.forgetIfDone();
    cb();
  }
  _destroy(err, cb) {
    clearInterval(this.idleTimer);
    if (!(this.finSent && this.finReceived)) this.link.send(RST, this.id);
    this.finSent = this.finReceived = true;
    this.link.forget(this.id);
    const b = this.blocked;
    this.blocked = null;
    if (b) b.cb(err ?? new Error('stream destroyed'));
    cb(err);
  }
  forgetIfDone() {
    if (this.finSent && this.finReceived) {
      clearInterval(this.idleTimer);
      this.link.forget(this.id);
    }
  }
}
