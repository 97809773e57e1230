/**
 * What the test agent answers: a tiny app speaking the protocol directly
 * (the agent's proxy to a real local app is tested in packages/relay-server).
 */
import { EventEmitter } from 'node:events';
import type { ErrorCode, HeaderList, RequestHead, Stream } from '@wingman/protocol';
import { waitForEntry } from '../../../../../test/helpers/wait';

export interface Fixture {
  handler: (stream: Stream) => void;
  /** Request heads the agent received, in order. */
  heads: RequestHead[];
  /** Resets the agent saw on its streams: target and code. */
  resets: Array<{ target: string; code: ErrorCode }>;
  /** Resolves with the reset of the stream for `target`, once the agent saw it (or already had). */
  waitForReset(target: string): Promise<{ target: string; code: ErrorCode }>;
  /** Resolves once the agent received a request for `target` (or already had). */
  waitForHead(target: string): Promise<RequestHead>;
  /** Lets the pending /sse response send its last event and end. */
  releaseSse(): void;
}

/** Bound on waiting for a request or a reset to reach the agent: one loopback hop. */
const RESET_WAIT_TIMEOUT_MS = 5_000;

const text = (s: string) => new TextEncoder().encode(s);

function collect(stream: Stream): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
  });
}

function header(head: RequestHead, name: string): string | undefined {
  return head.headers.find(([n]) => n === name)?.[1];
}

export function createFixture(): Fixture {
  const heads: RequestHead[] = [];
  const resets: Fixture['resets'] = [];
  const events = new EventEmitter();
  let sseRelease: (() => void) | undefined;

  const http = (stream: Stream) => {
    // A stream finishes only once its request 'end' was delivered to someone.
    if (!stream.head.target.startsWith('/echo')) stream.on('end', () => undefined);
    const { method, target } = stream.head;
    const path = target.split('?')[0];
    if (path === '/hello') {
      const body = `hello ${method}`;
      const headers: HeaderList = [
        ['content-type', 'text/plain'],
        ['content-length', String(body.length)],
        ['x-method', method],
      ];
      if (method === 'HEAD') return stream.respond({ status: 200, headers }, { end: true });
      stream.respond({ status: 200, headers });
      stream.write(text(body));
      return stream.end();
    }
    if (path === '/echo') {
      void collect(stream).then((body) => {
        stream.respond({
          status: 200,
          headers: [
            ['content-type', 'application/octet-stream'],
            ['content-length', String(body.length)],
          ],
        });
        for (let o = 0; o < body.length; o += 64 * 1024) stream.write(body.subarray(o, o + 64 * 1024));
        stream.end();
      });
      return;
    }
    if (path === '/hop') {
      stream.respond({
        status: 200,
        headers: [
          ['content-type', 'application/json'],
          ['connection', 'x-secret'],
          ['x-secret', 'hop'],
          ['keep-alive', 'timeout=5'],
          ['x-wingman-transport', 'forged'],
          ['set-cookie', 'a=1'],
          ['set-cookie', 'b=2'],
        ],
      });
      stream.write(text(JSON.stringify(stream.head.headers)));
      return stream.end();
    }
    if (path === '/sse') {
      stream.respond({
        status: 200,
        headers: [
          ['content-type', 'text/event-stream'],
          ['cache-control', 'no-cache'],
        ],
      });
      stream.write(text('data: first\n\n'));
      sseRelease = () => {
        stream.write(text('data: last\n\n'));
        stream.end();
      };
      return;
    }
    if (path === '/hang') {
      stream.respond({ status: 200, headers: [['content-type', 'text/plain']] });
      stream.write(text('partial'));
      return;
    }
    // Never answers: the stream stays open, without a response head, until it is cut.
    if (path === '/stall') return;
    if (path.startsWith('/reset/')) return stream.reset(path.slice('/reset/'.length) as ErrorCode, 'fixture reset');
    if (path === '/bulk') {
      // ?mib=N MiB of zeros, written as fast as flow control allows.
      const total = Number(new URLSearchParams(target.split('?')[1] ?? '').get('mib') ?? '1') * 1024 * 1024;
      stream.respond({
        status: 200,
        headers: [
          ['content-type', 'application/octet-stream'],
          ['content-length', String(total)],
        ],
      });
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < total && !stream.closed) {
          sent += chunk.length;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        if (!stream.closed) stream.end();
      };
      return pump();
    }
    if (path === '/empty') return stream.respond({ status: 204, headers: [] }, { end: true });
    stream.respond({ status: 404, headers: [['content-type', 'text/plain']] });
    stream.write(text('no such fixture route'));
    stream.end();
  };

  const ws = (stream: Stream) => {
    const { target } = stream.head;
    if (target === '/ws-refuse') {
      stream.respond({ status: 403, headers: [['x-refused', 'yes']] });
      // Not reset(): that would drop the queued response head.
      return stream.closeWs(1000, 'refused');
    }
    const offered = header(stream.head, 'sec-websocket-protocol')?.split(',')[0]?.trim();
    stream.respond({ status: 101, headers: [['x-app', 'yes'], ...(offered ? ([['sec-websocket-protocol', offered]] as HeaderList) : [])] });
    stream.on('message', (data, isText) => {
      const s = new TextDecoder().decode(data);
      if (isText && s === 'close-me') return stream.closeWs(4001, 'asked to close');
      stream.sendMessage(isText ? s : data);
    });
    stream.on('wsClose', (code, reason) => stream.closeWs(code, reason));
  };

  return {
    heads,
    resets,
    waitForReset: (target) =>
      waitForEntry(resets, events, 'reset', {
        filter: (r) => r.target === target,
        timeoutMs: RESET_WAIT_TIMEOUT_MS,
        what: `the agent to see the reset of ${target}`,
      }),
    waitForHead: (target) =>
      waitForEntry(heads, events, 'head', {
        filter: (h) => h.target === target,
        timeoutMs: RESET_WAIT_TIMEOUT_MS,
        what: `the agent to receive ${target}`,
      }),
    releaseSse: () => sseRelease?.(),
    handler(stream) {
      heads.push(stream.head);
      events.emit('head', stream.head);
      stream.on('reset', (error) => {
        const reset = { target: stream.head.target, code: error.code };
        resets.push(reset);
        events.emit('reset', reset);
      });
      if (stream.kind === 'ws') ws(stream);
      else http(stream);
    },
  };
}
