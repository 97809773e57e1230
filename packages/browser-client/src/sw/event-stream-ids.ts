/**
 * `Last-Event-ID` for an EventSource's reconnection, which Chromium adds below the Service Worker (the app
 * would replay from the start): the SW reads each stream's ids and, when it ended by itself, puts the last
 * on the same document's next request for that URL. docs/browser-client.md §Fidelity.
 */

/** Streams remembered at once (one per document and URL whose stream ended); the oldest goes first. */
export const MAX_EVENT_STREAMS = 64;

/** A reconnection later than this is a new EventSource, not a reconnection (browsers retry after seconds). */
export const EVENT_STREAM_MEMORY_MS = 10 * 60_000;

const EVENT_STREAM = 'text/event-stream';

/**
 * Tracks the last event id of an event stream as its bytes pass: `id`
 * fields set a buffer that takes effect when the event is dispatched (at
 * its blank line); an event cut off by the stream's end is not dispatched.
 */
export class LastEventIdParser {
  private readonly decoder = new TextDecoder();
  private line = '';
  private pendingId: string;
  private lastCr = false;

  constructor(public lastId: string) {
    this.pendingId = lastId;
  }

  push(bytes: Uint8Array): void {
    const text = this.decoder.decode(bytes, { stream: true });
    for (const ch of text) {
      if (ch === '\n' && this.lastCr) {
        this.lastCr = false;
        continue;
      }
      this.lastCr = ch === '\r';
      if (ch === '\r' || ch === '\n') this.endLine();
      else this.line += ch;
    }
  }

  private endLine(): void {
    const line = this.line;
    this.line = '';
    if (line === '') {
      this.lastId = this.pendingId;
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return;
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'id') return;
    const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
    if (!value.includes('\0')) this.pendingId = value;
  }
}

interface Ended {
  id: string;
  at: number;
}

export class EventStreamIds {
  private readonly ended = new Map<string, Ended>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * The request as it should travel: with the `Last-Event-ID` of the
   * document's stream for this URL that ended by itself, when the browser
   * left it out. Other requests come back as they are.
   */
  withLastEventId(request: Request, clientId: string): Request {
    if (!isEventStreamRequest(request) || request.headers.has('last-event-id')) return request;
    const key = keyOf(clientId, request.url);
    const ended = this.ended.get(key);
    this.ended.delete(key);
    if (!ended || ended.id === '' || this.now() - ended.at > EVENT_STREAM_MEMORY_MS) return request;
    // A copy without an init keeps everything, the header list verbatim (an init's headers would lose the
    // client hints, forbidden names) and the referrer; its headers, unlike the event's, can take one more.
    const copy = new Request(request);
    copy.headers.set('last-event-id', ended.id);
    return copy;
  }

  /** The response the page gets: an event stream's body read for its ids on the way. */
  track(request: Request, clientId: string, response: Response): Response {
    if (!clientId || !isEventStreamRequest(request) || !response.body || !response.ok) return response;
    if (!(response.headers.get('content-type') ?? '').toLowerCase().startsWith(EVENT_STREAM)) return response;
    const parser = new LastEventIdParser(request.headers.get('last-event-id') ?? '');
    const key = keyOf(clientId, request.url);
    const remember = () => {
      this.ended.delete(key);
      this.ended.set(key, { id: parser.lastId, at: this.now() });
      while (this.ended.size > MAX_EVENT_STREAMS) this.ended.delete(this.ended.keys().next().value as string);
    };
    // The stream ends (the server closed it) or errors (the path failed): the browser reconnects either way.
    // The page's close() cancels it: no reconnection, nothing to remember.
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          remember();
          return controller.error(err);
        }
        if (r.done) {
          remember();
          return controller.close();
        }
        parser.push(r.value);
        controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
}

function isEventStreamRequest(request: Request): boolean {
  return request.method === 'GET' && request.mode !== 'navigate' && (request.headers.get('accept') ?? '').toLowerCase() === EVENT_STREAM;
}

const keyOf = (clientId: string, url: string) => `${clientId} ${url}`;
