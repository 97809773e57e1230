/**
 * The shell's side of sw/shell-fetch.ts: one request from the Service Worker
 * becomes one 'http' stream on the data channel's Connection, with
 * backpressure end to end — port credit ⇄ stream pause/resume for the
 * response, stream 'drain' ⇄ withheld port credit for the request body.
 */
import { ProtocolError, type Connection, type Stream } from '@wingman/protocol';
import { PORT_WINDOW_BYTES } from '../shared/constants';
import { parseSwToShellPort, type FetchRequest, type PortBatch, type ShellToSwPort } from '../shared/messages';
import { closeWhenPosted, taskBatch, type ExchangePort } from '../shared/exchange-mux';
import { createBodySender } from '../shared/port-body';
import { createCoalescer } from './coalesce';
import { quietly } from '../shared/quietly';

/** What a response body's pending writes see once the exchange is over (one instance: an Error per request costs its stack trace). */
const FINISHED = new Error('exchange finished');

/**
 * Posts on `port`, coalescing what is posted within one task into one
 * message: a data-channel message often carries a response's head, body and
 * end together, and every postMessage to the SW is a cross-thread hop.
 */
function createBatchingPost(port: ExchangePort): (m: ShellToSwPort, transfer?: Transferable[]) => void {
  return taskBatch<ShellToSwPort>((items, transfer) => {
    // It throws when the SW side is gone; the stream is reset on cleanup.
    quietly(() => port.postMessage(items.length === 1 ? items[0] : ({ t: 'batch', items } satisfies PortBatch<ShellToSwPort>), transfer));
  }).queue;
}

export function createRequestServer(connection: () => Connection | undefined) {
  const open = new Set<() => void>();

  function serve(request: FetchRequest, port: ExchangePort): void {
    const post = createBatchingPost(port);
    const decline = (reason: string) => {
      post({ t: 'decline', reason });
      port.close();
    };
    const conn = connection();
    if (!conn || !conn.isReady) return decline('no open data channel');
    let stream: Stream;
    try {
      stream = conn.open('http', { method: request.method, target: request.target, headers: request.headers }, { end: !request.hasBody });
    } catch (err) {
      return decline(err instanceof ProtocolError ? err.message : String(err));
    }
    post({ t: 'accept' });

    let done = false;
    const sender = createBodySender((m, t) => post(m, t));
    const finish = () => {
      if (done) return;
      done = true;
      open.delete(abort);
      sender.close(FINISHED);
      port.onmessage = null;
      // Queued messages (end, abort) leave before the port closes.
      closeWhenPosted(port);
    };
    const abort = () => {
      if (done) return;
      post({ t: 'abort', code: 'ERR_CONNECTION_LOST', message: 'the page carrying the data channel is going away' });
      stream.reset('ERR_CANCEL', 'viewer page closing');
      finish();
    };
    open.add(abort);

    // Request body: credit goes back only for bytes the stream took without backpressure.
    let heldCredit = 0;
    let owedCredit = 0;
    const grant = (n: number) => {
      owedCredit += n;
      if (owedCredit >= PORT_WINDOW_BYTES / 4) {
        post({ t: 'credit', bytes: owedCredit });
        owedCredit = 0;
      }
    };
    stream.on('drain', () => {
      if (heldCredit > 0) {
        const n = heldCredit;
        heldCredit = 0;
        grant(n);
      }
    });

    port.onmessage = (ev: MessageEvent) => {
      const m = parseSwToShellPort(ev.data);
      if (!m || done) return;
      switch (m.t) {
        case 'data': {
          if (stream.closed || stream.localEnded) return;
          const chunk = new Uint8Array(m.chunk);
          if (stream.write(chunk)) grant(chunk.length);
          else heldCredit += chunk.length;
          return;
        }
        case 'end':
          if (!stream.closed) stream.end();
          return;
        case 'credit':
          sender.credit(m.bytes);
          return;
        case 'cancel':
          stream.reset('ERR_CANCEL', m.reason || 'cancelled by the viewer');
          finish();
          return;
      }
    };

    stream.on('response', (head) => {
      if (head.status < 200) {
        stream.reset('ERR_PROTOCOL', `status ${head.status} on an HTTP stream`);
        post({ t: 'abort', code: 'ERR_PROTOCOL', message: `the agent answered ${head.status}` });
        finish();
        return;
      }
      post({ t: 'head', status: head.status, headers: head.headers });
    });
    const pieces = createCoalescer((piece, owned) => {
      // An unowned piece is a view into the channel's message: send() copies it.
      if (!sender.send(piece, owned) && !stream.isPaused) {
        stream.pause();
        void sender.room().then(
          () => stream.resume(),
          () => undefined,
        );
      }
    });
    stream.on('data', (chunk) => {
      if (!done) pieces.push(chunk);
    });
    stream.on('close', () => pieces.close());
    stream.on('end', () => {
      pieces.flush();
      post({ t: 'end' });
      // The app answered before reading the whole upload: stop sending it.
      if (!stream.localEnded) stream.reset('ERR_CANCEL', 'response complete before the request body');
      finish();
    });
    stream.on('reset', (error) => {
      post({ t: 'abort', code: error.code, message: error.message });
      finish();
    });
  }

  return {
    /** Serves one `wingman:fetch` from the SW on its port. Never throws. */
    serve(request: FetchRequest, port: ExchangePort): void {
      try {
        serve(request, port);
      } catch (err) {
        // A bug here must cost one request, not the shell (the port may be gone too).
        quietly(() => port.postMessage({ t: 'abort', code: 'ERR_INTERNAL', message: String(err) } satisfies ShellToSwPort));
      }
    },
    /** Fails every open exchange (the page is going away): the SW retries or resumes them over the relay. */
    abortAll(): void {
      for (const a of [...open]) a();
    },
    /** Exchanges in flight. */
    get active(): number {
      return open.size;
    },
  };
}
