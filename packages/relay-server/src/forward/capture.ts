/**
 * The inspector's tap on the forwarder: request and response heads, and
 * bodies copied up to a cap, for both transports. Off (no tap, no copy)
 * unless the forwarder is given `capture` options. Bodies beyond the cap are
 * counted, not kept; the data path never waits for the tap.
 */
import { VIEWER_HEADER, type ErrorCode, type HeaderList } from '@wingman/protocol';
import type { TransportName } from './headers';

/** Default per-body capture cap: enough for any JSON API payload, small enough that 500 entries stay well under 1 GiB worst case. */
export const DEFAULT_CAPTURE_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Body bytes the process keeps for exchanges still in flight, all of them
 * together (the inspector's store bounds the finished ones: its
 * INSPECT_STORE_MAX_BYTES). Past it, bodies are counted, not kept (shown
 * truncated): a thousand downloads a viewer stopped reading each kept 1 MiB
 * here, and took the agent past 1 GB.
 */
const CAPTURE_IN_FLIGHT_BUDGET_BYTES = 8 * 1024 * 1024;

/** Bytes kept now by unfinished body taps of this process. */
let keptInFlight = 0;

/** Largest `--inspect-body-limit`: a captured body crosses the P2P host's IPC channel as one message. */
export const MAX_CAPTURE_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export interface CapturedBody {
  /** The first `limit` bytes of the body. */
  data: Buffer;
  /** Bytes the body had in all (what went through, not what was kept). */
  size: number;
  /** `size` > `data.length`: the rest was not kept. */
  truncated: boolean;
  /** Nothing of it was kept because the agent was under load: its buffer budget was over half spent while it passed (`agentUnderLoad`), or a buffer budget refused the exchange (ERR_OVERLOADED). */
  underLoad?: true;
}

/** One exchange as the forwarder saw it, once it ended (response complete, failed or reset). */
export interface Capture {
  /** The prefix of the route (path mount, routes.ts) that served it; absent for the main target. */
  mount?: string;
  method: string;
  /** Origin-form request target (path and query). */
  target: string;
  transport: TransportName;
  /** Who sent it: the P2P viewer's id, or the relay's X-Forwarded-For address. */
  viewer?: string;
  /** P2P: the channel it came over is verified with the link key (docs/PROTOCOL.md §Verified channels). */
  verified?: boolean;
  /** Wall-clock arrival, ms since the epoch. */
  startedAt: number;
  /** Arrival to the end of the response (or the failure), ms. */
  durationMs: number;
  /** Status sent to the viewer; 0 when none was (see `error`). */
  status: number;
  error?: string;
  /**
   * The head as the app received it: after the Host rewrite, the address
   * mapping (address-map.ts), hop-by-hop removal and the request header
   * rules. A request refused before reaching the app keeps the viewer's.
   */
  requestHeaders: HeaderList;
  /** The head the viewer got. */
  responseHeaders: HeaderList;
  requestBody: CapturedBody;
  responseBody: CapturedBody;
  /** A WebSocket upgrade: only the handshake is captured. */
  websocket?: boolean;
}

export interface CaptureOptions {
  /** Bytes kept per body (request and response each); 0 keeps heads only. */
  bodyLimitBytes: number;
  /** One call per exchange, when it ended. Must not throw. */
  onCapture(capture: Capture): void;
  /**
   * True while the process is under load (the forwarder sets it from its
   * buffer budget: `agentUnderLoad`): bodies are then not kept, only counted.
   */
  underLoad?: () => boolean;
}

/** An empty body (no body, or one not captured). */
const EMPTY_BODY: CapturedBody = Object.freeze({ data: Buffer.alloc(0), size: 0, truncated: false });

/**
 * Copies the first `limit` bytes of a body as it passes (within
 * CAPTURE_IN_FLIGHT_BUDGET_BYTES); counts the rest. While `underLoad()` says
 * so, it keeps nothing: what it had kept is dropped at once and the body is
 * shown as not kept (`underLoad`). Under an attack of stalled downloads every
 * refused exchange had its body copied here and again into the inspector's
 * store, churn that took the agent's RSS past 200 MB; its buffer budget being
 * spent is the sign of that load.
 */
interface BodyTap {
  push(chunk: Uint8Array): void;
  /** Keeps nothing more and drops what it kept, as under load: the body shows as not kept (`underLoad`). */
  drop(): void;
  /** The body as kept; its bytes leave the in-flight budget (the caller hands them on). */
  result(): CapturedBody;
}

export function createBodyTap(limit: number, underLoad: () => boolean = () => false): BodyTap {
  /** Bytes this body may still keep up to: `limit`, or what it had kept when the budget ran out. */
  let cap = limit;
  let done = false;
  /** Nothing is kept: the process was under load while the body passed. */
  let dropped = false;
  let parts: Buffer[] = [];
  let kept = 0;
  let size = 0;
  const drop = () => {
    if (done || dropped) return;
    dropped = true;
    keptInFlight -= kept;
    kept = 0;
    parts = [];
  };
  return {
    push(chunk) {
      size += chunk.byteLength;
      if (kept >= cap || done || dropped) return;
      if (underLoad()) return drop();
      const take = Math.min(chunk.byteLength, cap - kept, CAPTURE_IN_FLIGHT_BUDGET_BYTES - keptInFlight);
      // The process's budget is spent: from here on this body is counted only (no gap in what is kept).
      if (take <= 0) return void (cap = kept);
      // A copy: the chunk's memory belongs to the transport and is reused.
      parts.push(Buffer.from(chunk.subarray(0, take)));
      kept += take;
      keptInFlight += take;
    },
    drop,
    result() {
      if (dropped) return { data: EMPTY_BODY.data, size, truncated: size > 0, underLoad: true };
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, kept);
      const body = { data, size, truncated: size > kept };
      if (!done) {
        done = true;
        keptInFlight -= kept;
        parts = [data];
      }
      return body;
    },
  };
}

/** The viewer of a stream: the P2P viewer id when known, else the visitor id or the first X-Forwarded-For address (both set by the tunnel server). */
function viewerOf(headers: HeaderList, viewerId: string | undefined): string | undefined {
  if (viewerId) return viewerId;
  const visitor = headers.find(([n]) => n === VIEWER_HEADER)?.[1];
  if (visitor) return visitor;
  const xff = headers.find(([n]) => n === 'x-forwarded-for')?.[1];
  return xff?.split(',')[0]?.trim() || undefined;
}

/**
 * The failure of an exchange a buffer budget refused (the agent's, or the
 * tunnel server's, which resets the stream with it). Under an attack of
 * stalled downloads nearly every exchange ends so: keeping their bodies filled
 * the inspector's history with the attack's bytes.
 */
const OVERLOADED: ErrorCode = 'ERR_OVERLOADED';

/** The tap on one exchange; every method is a no-op after `finish`. */
interface ExchangeTap {
  /** The head sent to the app, in place of the viewer's. */
  requestHead(headers: HeaderList): void;
  requestChunk(chunk: Uint8Array): void;
  /** The head sent to the viewer (the app's or an error page's). */
  responseHead(status: number, headers: HeaderList): void;
  responseChunk(chunk: Uint8Array): void;
  /** The exchange ended: hands the capture over (once). `error`: the ERR_* code of a failure. */
  finish(error?: string): void;
}

const NO_TAP: ExchangeTap = { requestHead() {}, requestChunk() {}, responseHead() {}, responseChunk() {}, finish() {} };

export function createExchangeTap(
  head: { method: string; target: string; headers: HeaderList },
  transport: TransportName,
  viewerId: string | undefined,
  options: CaptureOptions | undefined,
  extra: { websocket?: boolean } = {},
): ExchangeTap {
  return options ? new Tap(head, transport, viewerId, options, extra.websocket === true) : NO_TAP;
}

/**
 * The tap of one exchange: what it saw, kept as references until `finish`
 * builds the capture. A body tap is made on a body's first chunk (most
 * requests have none), and the viewer is read from the head only then.
 */
class Tap implements ExchangeTap {
  private readonly started = performance.now();
  private readonly startedAt = Date.now();
  private status = 0;
  private requestHeaders: HeaderList;
  private responseHeaders: HeaderList = [];
  private requestBody: BodyTap | undefined;
  private responseBody: BodyTap | undefined;
  private finished = false;

  constructor(
    private readonly head: { method: string; target: string; headers: HeaderList },
    private readonly transport: TransportName,
    private readonly viewerId: string | undefined,
    private readonly options: CaptureOptions,
    private readonly websocket: boolean,
  ) {
    this.requestHeaders = head.headers;
  }

  requestHead(headers: HeaderList): void {
    this.requestHeaders = headers;
  }

  requestChunk(chunk: Uint8Array): void {
    if (this.finished) return;
    (this.requestBody ??= createBodyTap(this.options.bodyLimitBytes, this.options.underLoad)).push(chunk);
  }

  responseHead(status: number, headers: HeaderList): void {
    this.status = status;
    this.responseHeaders = headers;
  }

  responseChunk(chunk: Uint8Array): void {
    if (this.finished) return;
    (this.responseBody ??= createBodyTap(this.options.bodyLimitBytes, this.options.underLoad)).push(chunk);
  }

  finish(error?: string): void {
    if (this.finished) return;
    this.finished = true;
    // Refused for the load (a budget, the agent's or the server's, evicted it): its bodies go as under load.
    if (error === OVERLOADED) {
      (this.requestBody ??= createBodyTap(0)).drop();
      (this.responseBody ??= createBodyTap(0)).drop();
    }
    const { head } = this;
    const viewer = viewerOf(head.headers, this.viewerId);
    this.options.onCapture({
      method: head.method,
      target: head.target,
      transport: this.transport,
      ...(viewer !== undefined ? { viewer } : {}),
      startedAt: this.startedAt,
      durationMs: Math.round(performance.now() - this.started),
      status: this.status,
      ...(error !== undefined ? { error } : {}),
      requestHeaders: this.requestHeaders,
      responseHeaders: this.responseHeaders,
      requestBody: bodyOf(this.requestBody),
      responseBody: bodyOf(this.responseBody),
      ...(this.websocket ? { websocket: true } : {}),
    });
  }
}

/** What a body tap kept; no tap (no chunk came): an empty body. */
function bodyOf(tap: BodyTap | undefined): CapturedBody {
  return tap ? tap.result() : { data: EMPTY_BODY.data, size: 0, truncated: false };
}
