/**
 * The inspector's tap on the forwarder: heads, and bodies copied up to a cap
 * (the rest counted), for both transports. Off unless the forwarder is given
 * `capture` options; the data path never waits for the tap.
 */
import { VIEWER_HEADER, type ErrorCode, type HeaderList } from '@wingman/protocol';
import { z } from 'zod';
import type { TransportName } from './headers';

/** Default per-body capture cap: enough for any JSON API payload, small enough that 500 entries stay well under 1 GiB worst case. */
export const DEFAULT_CAPTURE_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Body bytes kept for exchanges still in flight, process-wide (the store
 * bounds finished ones: INSPECT_STORE_MAX_BYTES); past it bodies are counted,
 * not kept. A thousand stalled downloads each kept 1 MiB here: past 1 GB.
 */
const CAPTURE_IN_FLIGHT_BUDGET_BYTES = 8 * 1024 * 1024;

let keptInFlight = 0;

/** Largest `--inspect-body-limit`: a captured body crosses the P2P host's IPC channel as one message. */
export const MAX_CAPTURE_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

/** Same bounds as the protocol's heads: far more than a real head carries. */
const MAX_CAPTURED_HEADERS = 1024;

/** One check per list, not a zod tuple per field: those cost the agent ~10 µs per P2P exchange. */
const isField = (f: unknown) => Array.isArray(f) && f.length === 2 && f.every((s) => typeof s === 'string' && s.length <= 65_536);
const headerListSchema = z.custom<HeaderList>((v) => Array.isArray(v) && v.length <= MAX_CAPTURED_HEADERS && v.every(isField), 'a list of [name, value] pairs');
/**
 * A captured body, its data as bytes across the P2P host's IPC channel
 * (`advanced` serialization, V8's structured clone): as base64 in JSON it
 * cost ~14 % of the P2P host's CPU in a Vite cold visit (lab, CPU profile).
 */
const wireBodySchema = z.object({
  data: z.custom<Uint8Array>((d) => d instanceof Uint8Array && d.byteLength <= MAX_CAPTURE_BODY_LIMIT_BYTES),
  /** Bytes the body had in all. */
  size: z.number().int().nonnegative(),
  truncated: z.boolean(),
  /** Nothing kept: the buffer budget was over half spent while it passed (`agentUnderLoad`), or refused the exchange (ERR_OVERLOADED). */
  underLoad: z.literal(true).optional(),
});
/** One exchange as the forwarder saw it, once it ended (response complete, failed or reset); as it crosses the IPC channel. */
export const wireCaptureSchema = z.object({
  /** The route prefix (routes.ts) that served it; absent for the main target. */
  mount: z.string().max(256).optional(),
  method: z.string().min(1).max(64),
  target: z.string().max(65_536),
  transport: z.enum(['relay', 'p2p']),
  /** The P2P viewer's id, or the relay's X-Forwarded-For address. */
  viewer: z.string().max(256).optional(),
  /** Wall-clock arrival, ms since the epoch. */
  startedAt: z.number().finite(),
  durationMs: z.number().finite().nonnegative(),
  /** 0 when no status was sent (see `error`). */
  status: z.number().int().min(0).max(999),
  error: z.string().max(64).optional(),
  /** The head as the app received it (Host rewrite, address map, hop-by-hop removal, header rules); a refused request keeps the viewer's. */
  requestHeaders: headerListSchema,
  responseHeaders: headerListSchema,
  requestBody: wireBodySchema,
  responseBody: wireBodySchema,
  /** Only the handshake is captured. */
  websocket: z.boolean().optional(),
});

export type WireCapture = z.infer<typeof wireCaptureSchema>;
export type CapturedBody = Omit<WireCapture['requestBody'], 'data'> & { data: Buffer };
export type Capture = Omit<WireCapture, 'requestBody' | 'responseBody'> & {
  requestBody: CapturedBody;
  responseBody: CapturedBody;
  /** P2P: a channel verified with the link key (docs/PROTOCOL.md §Verified channels). */
  verified?: boolean;
};

export interface CaptureOptions {
  /** Per body; 0 keeps heads only. */
  bodyLimitBytes: number;
  /** Once per exchange, when it ended. Must not throw. */
  onCapture(capture: Capture): void;
  /** `agentUnderLoad` of the buffer budget: bodies are then counted only. */
  underLoad?: () => boolean;
}

const EMPTY_BODY: CapturedBody = Object.freeze({ data: Buffer.alloc(0), size: 0, truncated: false });

/**
 * Copies the first `limit` bytes of a body as it passes (within
 * CAPTURE_IN_FLIGHT_BUDGET_BYTES). While `underLoad()`, it keeps nothing and
 * drops what it kept: under stalled downloads every refused body was copied
 * here and again into the store, churn that took RSS past 200 MB.
 */
export function createBodyTap(limit: number, underLoad: () => boolean = () => false) {
  /** `limit`, or what it had kept when the budget ran out. */
  let cap = limit;
  let done = false;
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
    push(chunk: Uint8Array) {
      size += chunk.byteLength;
      if (kept >= cap || done || dropped) return;
      if (underLoad()) return drop();
      const take = Math.min(chunk.byteLength, cap - kept, CAPTURE_IN_FLIGHT_BUDGET_BYTES - keptInFlight);
      // The budget is spent: counted only from here (no gap in what is kept).
      if (take <= 0) return void (cap = kept);
      // A copy: the chunk's memory belongs to the transport and is reused.
      parts.push(Buffer.from(chunk.subarray(0, take)));
      kept += take;
      keptInFlight += take;
    },
    /** Drops what it kept: the body shows as not kept (`underLoad`). */
    drop,
    /** Its bytes leave the in-flight budget (the caller hands them on). */
    result(): CapturedBody {
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

type BodyTap = ReturnType<typeof createBodyTap>;

/** The P2P viewer id, else the visitor id or the first X-Forwarded-For address (both set by the tunnel server). */
function viewerOf(headers: HeaderList, viewerId: string | undefined): string | undefined {
  if (viewerId) return viewerId;
  const visitor = headers.find(([n]) => n === VIEWER_HEADER)?.[1];
  if (visitor) return visitor;
  const xff = headers.find(([n]) => n === 'x-forwarded-for')?.[1];
  return xff?.split(',')[0]?.trim() || undefined;
}

/** A buffer budget (the agent's or the server's) refused the exchange: under stalled downloads nearly all end so, and their bodies would fill the history. */
const OVERLOADED: ErrorCode = 'ERR_OVERLOADED';

interface ExchangeTap {
  /** Replaces the viewer's head. */
  requestHead(headers: HeaderList): void;
  requestChunk(chunk: Uint8Array): void;
  /** The app's or an error page's. */
  responseHead(status: number, headers: HeaderList): void;
  responseChunk(chunk: Uint8Array): void;
  /** Once; `error`: the ERR_* code of a failure. Everything after is a no-op. */
  finish(error?: string): void;
}

const NO_TAP: ExchangeTap = { requestHead() {}, requestChunk() {}, responseHead() {}, responseChunk() {}, finish() {} };

/** Kept as references until `finish`; a body tap is made on its first chunk (most requests have none). */
export function createExchangeTap(
  head: { method: string; target: string; headers: HeaderList },
  transport: TransportName,
  viewerId: string | undefined,
  options: CaptureOptions | undefined,
  extra: { websocket?: boolean } = {},
): ExchangeTap {
  if (!options) return NO_TAP;
  const started = performance.now();
  const startedAt = Date.now();
  let status = 0;
  let requestHeaders = head.headers;
  let responseHeaders: HeaderList = [];
  let requestBody: BodyTap | undefined;
  let responseBody: BodyTap | undefined;
  let finished = false;
  return {
    requestHead(headers) {
      requestHeaders = headers;
    },
    requestChunk(chunk) {
      if (!finished) (requestBody ??= createBodyTap(options.bodyLimitBytes, options.underLoad)).push(chunk);
    },
    responseHead(s, headers) {
      status = s;
      responseHeaders = headers;
    },
    responseChunk(chunk) {
      if (!finished) (responseBody ??= createBodyTap(options.bodyLimitBytes, options.underLoad)).push(chunk);
    },
    finish(error) {
      if (finished) return;
      finished = true;
      // Refused for the load: its bodies go as under load.
      if (error === OVERLOADED) {
        (requestBody ??= createBodyTap(0)).drop();
        (responseBody ??= createBodyTap(0)).drop();
      }
      const viewer = viewerOf(head.headers, viewerId);
      options.onCapture({
        method: head.method,
        target: head.target,
        transport,
        ...(viewer !== undefined ? { viewer } : {}),
        startedAt,
        durationMs: Math.round(performance.now() - started),
        status,
        ...(error !== undefined ? { error } : {}),
        requestHeaders,
        responseHeaders,
        requestBody: bodyOf(requestBody),
        responseBody: bodyOf(responseBody),
        ...(extra.websocket === true ? { websocket: true } : {}),
      });
    },
  };
}

function bodyOf(tap: BodyTap | undefined): CapturedBody {
  return tap ? tap.result() : { data: EMPTY_BODY.data, size: 0, truncated: false };
}
