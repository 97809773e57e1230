/**
 * A hostile agent's answers whose bodies disagree with their Content-Length,
 * and a raw viewer that sends requests on one keep-alive TCP connection and
 * keeps every byte the server sends back (to see what a split would leave).
 */
import { connect, type Socket } from 'node:net';
import type { Stream } from '@wingman/protocol';
import { delay } from '../../../../../test/helpers/wait';

/** Excess crafted as a whole HTTP response: what a split would hand the next request. */
export const SMUGGLED = 'HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nhijack!';
export const EXCESS_BODY = `hello${SMUGGLED}`.padEnd(50, '.');

/** The hostile agent: /excess declares 5 bytes and sends 50; /short declares 50 and sends 5; /ok is honest. */
export function hostile(stream: Stream): void {
  stream.on('end', () => undefined);
  const path = stream.head.target;
  const enc = (s: string) => new TextEncoder().encode(s);
  if (path === '/excess') {
    stream.respond({ status: 200, headers: [['content-length', '5']] });
    stream.write(enc(EXCESS_BODY));
  } else if (path === '/excess-late') {
    // The declared bytes first, the excess in a later chunk.
    stream.respond({ status: 200, headers: [['content-length', '5']] });
    stream.write(enc('hello'));
    setTimeout(() => {
      if (stream.closed) return;
      stream.write(enc(SMUGGLED));
      stream.end();
    }, 50);
    return;
  } else if (path === '/short') {
    stream.respond({ status: 200, headers: [['content-length', '50']] });
    stream.write(enc('hello'));
  } else if (path === '/conflict') {
    stream.respond({
      status: 200,
      headers: [
        ['content-length', '5'],
        ['content-length', '6'],
      ],
    });
    stream.write(enc('hello!'));
  } else {
    stream.respond({ status: 200, headers: [['content-length', '2']] });
    stream.write(enc('ok'));
  }
  stream.end();
}

/** Everything the server sends on one socket until it closes it (or `timeoutMs`, then the socket is cut and `closedByServer` is false). */
export function exchange(port: number, requests: string[], gapMs = 0, timeoutMs = 3_000): Promise<{ bytes: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let bytes = '';
    let settled = false;
    const done = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, closedByServer });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
    socket.on('end', () => done(true));
    socket.on('close', () => done(true));
    socket.on('error', (err) => (settled ? undefined : reject(err)));
    const send = async () => {
      for (const r of requests) {
        if (socket.destroyed) break;
        socket.write(r);
        if (gapMs > 0) await delay(gapMs); // pacing: requests apart on one connection
      }
    };
    socket.once('connect', () => void send().catch((err: unknown) => (settled ? undefined : reject(err))));
  });
}

export const get = (host: string, path: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`;

/** Splits raw bytes into responses: [head, body] pairs, bodies cut by their Content-Length. */
export function responses(raw: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ head, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}
