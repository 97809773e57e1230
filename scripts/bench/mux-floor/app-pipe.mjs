/**
 * The agent's end of one stream: a TCP connection to the app, bytes copied
 * both ways with no parsing. DATA from the server is written to the socket
 * and credited back once the socket has taken it; the app's bytes go out as
 * DATA within the stream's credit window, the socket paused while it is spent.
 */
import net from 'node:net';
import { CREDIT_THRESHOLD_BYTES, DATA, FIN, MAX_DATA_BYTES, RST, STREAM_WINDOW_BYTES } from './frame.mjs';

export class AppPipe {
  /**
   * @param {{ send(type: number, id: number, payload?: Uint8Array): void, credit(id: number, bytes: number): void, forget(id: number): void }} link
   * @param {number} id
   * @param {number} appPort
   */
  constructor(link, id, appPort) {
    this.link = link;
    this.id = id;
    this.sendWindow = STREAM_WINDOW_BYTES;
    this.unacked = 0;
    this.waitingDrain = false;
    /** App bytes waiting for credit. @type {Buffer[]} */
    this.queue = [];
    this.appEnded = false;
    this.finSent = false;
    this.finReceived = false;
    this.resetReceived = false;
    this.closed = false;
    // Half-open: the app's end becomes FIN only after the bytes still waiting for credit.
    const socket = net.connect({ host: '127.0.0.1', port: appPort, noDelay: true, allowHalfOpen: true });
    this.socket = socket;
    socket.on('data', (chunk) => this.fromApp(chunk));
    socket.on('end', () => {
      this.appEnded = true;
      this.flush();
    });
    socket.on('drain', () => {
      this.waitingDrain = false;
      if (this.unacked > 0) this.grant();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', (hadError) => {
      this.closed = true;
      // A clean close with app bytes still queued is finished by flush().
      if (!hadError && this.appEnded && this.queue.length > 0 && !this.resetReceived) return;
      if (!this.resetReceived && !(this.finSent && this.finReceived)) this.link.send(RST, id);
      this.link.forget(id);
    });
  }

  /** @param {Buffer} payload */
  onData(payload) {
    this.unacked += payload.length;
    if (this.unacked > STREAM_WINDOW_BYTES) return void this.socket.destroy();
    if (this.socket.write(payload)) {
      if (!this.waitingDrain && this.unacked >= CREDIT_THRESHOLD_BYTES) this.grant();
    } else {
      this.waitingDrain = true;
    }
  }
  onCredit(bytes) {
    this.sendWindow += bytes;
    this.flush();
  }
  onFin() {
    this.finReceived = true;
    this.socket.end();
  }
  onReset() {
    this.resetReceived = true;
    this.queue = [];
    this.socket.destroy();
    this.link.forget(this.id);
  }

  grant() {
    this.link.credit(this.id, this.unacked);
    this.unacked = 0;
  }

  /** @param {Buffer} chunk */
  fromApp(chunk) {
    if (this.queue.length > 0) return void this.queue.push(chunk);
    const sent = this.sendSome(chunk);
    if (sent < chunk.length) {
      this.queue.push(chunk.subarray(sent));
      this.socket.pause();
    }
  }
  /** Sends what the window allows of `chunk`; returns the bytes sent. */
  sendSome(chunk) {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.sendWindow, MAX_DATA_BYTES);
      if (n === 0) break;
      this.link.send(DATA, this.id, offset === 0 && n === chunk.length ? chunk : chunk.subarray(offset, offset + n));
      this.sendWindow -= n;
      offset += n;
    }
    return offset;
  }
  /** Sends queued bytes the window now allows; then FIN if the app has ended. */
  flush() {
    while (this.queue.length > 0) {
      const chunk = this.queue[0];
      const sent = this.sendSome(chunk);
      if (sent < chunk.length) {
        this.queue[0] = chunk.subarray(sent);
        return;
      }
      this.queue.shift();
    }
    if (this.appEnded) {
      if (!this.finSent) {
        this.finSent = true;
        this.link.send(FIN, this.id);
      }
      if (this.closed) this.link.forget(this.id);
    } else if (this.socket.isPaused()) {
      this.socket.resume();
    }
  }
}
