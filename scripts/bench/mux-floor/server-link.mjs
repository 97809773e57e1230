/**
 * The server's end of the agent's WebSocket: opens streams (ids 1, 2, …)
 * and dispatches the agent's frames to them. A malformed frame or a closed
 * WebSocket ends every stream; the server process keeps running.
 */
import { OPEN, deliverFrame, encodeCredit, encodeFrame, frameError } from './frame.mjs';
import { MuxStream } from './mux-stream.mjs';
import { createBatchedSender } from './write-batch.mjs';

export class ServerLink {
  /** @param {import('ws').WebSocket} ws */
  constructor(ws) {
    this.ws = ws;
    /** @type {Map<number, MuxStream>} */
    this.streams = new Map();
    this.nextId = 1;
    this.closed = false;
    this.write = createBatchedSender(ws);
    ws.on('message', (msg) => this.onMessage(msg));
    ws.on('close', () => this.close(new Error('agent disconnected')));
    ws.on('error', () => ws.terminate());
  }

  /** A new stream, which the agent connects to the app. */
  open() {
    const id = this.nextId++;
    if (this.nextId > 0xffffffff) this.nextId = 1;
    const s = new MuxStream(this, id);
    this.streams.set(id, s);
    this.send(OPEN, id);
    return s;
  }

  send(type, id, payload) {
    if (!this.closed) this.write(encodeFrame(type, id, payload));
  }
  credit(id, bytes) {
    if (!this.closed) this.write(encodeCredit(id, bytes));
  }
  forget(id) {
    this.streams.delete(id);
  }

  /** @param {Buffer} msg */
  onMessage(msg) {
    const err = frameError(msg);
    if (err) {
      this.ws.terminate();
      return this.close(new Error(`malformed frame from the agent: ${err}`));
    }
    if (msg[0] === OPEN) {
      this.ws.terminate();
      return this.close(new Error('the agent may not open streams'));
    }
    const s = this.streams.get(msg.readUInt32BE(1));
    if (s) deliverFrame(msg, s); // else a stream this side already closed
  }

  close(err) {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.destroy(err);
    this.streams.clear();
  }
}
