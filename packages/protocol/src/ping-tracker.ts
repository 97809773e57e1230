/** Round trips with PING/PONG: a unique payload per PING; unanswered within its timeout, ERR_TIMEOUT. */
import { PING_PAYLOAD_BYTES } from './constants';
import { protocolError, type ProtocolError } from './errors';

interface PendingPing {
  start: number;
  resolve: (ms: number) => void;
  reject: (e: Error) => void;
  timer: unknown;
}

export class PingTracker {
  private readonly pings = new Map<string, PendingPing>();
  private counter = 0;

  /** Starts a PING: `send` queues its frame with the payload; the promise settles on PONG, timeout, or rejectAll(). */
  start(timeoutMs: number, send: (payload: Uint8Array) => void): Promise<number> {
    const payload = new Uint8Array(PING_PAYLOAD_BYTES);
    const view = new DataView(payload.buffer);
    view.setUint32(0, ++this.counter);
    view.setUint32(4, (Math.random() * 0xffffffff) >>> 0);
    const key = hex(payload);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pings.delete(key);
        reject(protocolError('ERR_TIMEOUT', `no PONG within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pings.set(key, { start: performance.now(), resolve, reject, timer });
      send(payload);
    });
  }

  /** A PONG arrived: settles the PING it answers (an unknown payload is ignored). */
  pong(payload: Uint8Array): void {
    const key = hex(payload);
    const p = this.pings.get(key);
    if (p) {
      this.pings.delete(key);
      clearTimeout(p.timer);
      p.resolve(performance.now() - p.start);
    }
  }

  /** The connection is over: every pending PING rejects with `error`. */
  rejectAll(error: ProtocolError): void {
    for (const p of this.pings.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pings.clear();
  }
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
