/**
 * Every message between the shell, the Service Worker, the shim and their exchanges, with validators:
 * any same-origin script can post. Window messages carry `type` ("wingman:…"); port messages, a short `t`.
 */
import { SPEED_SWITCHES, type SpeedSwitch } from '@wingman/protocol';
import { MAX_COOKIE_BYTES, MAX_COOKIES } from './cookie-jar';

export type WireHeaders = Array<[name: string, value: string]>;

/** The first value of `name` (lower case) in a header list. */
export const header = (headers: ReadonlyArray<readonly [string, string]>, name: string) => headers.find(([n]) => n === name)?.[1];

// ---- window ⇄ Service Worker (postMessage on the client / controller) ------

/** shell → SW: this window owns (or lost) a data channel; sent on every change and in answer to `wingman:sync`. */
export interface ShellAnnounce {
  type: 'wingman:shell';
  shellId: string;
  /** A channel is open: requests may be handed over. */
  p2p: boolean;
  // The flags below are false when absent.
  /** The open channel goes through TURN: no shorter than the relay, which is then each request class's default (sw/path-choice.ts). */
  turn?: boolean;
  /** This shell's loss probe found the peer path lossy, on this channel or an earlier one, and none since found it clean (sw/lossy-path.ts). */
  lossy?: boolean;
  /** This shell's loss probe found the path clean: the SW drops the verdict it took from this shell's `lossy`. */
  lossClean?: boolean;
  /** With `p2p`: the loss probe has no verdict yet; the SW routes bursts around the channel (route-decision.ts rule 6). */
  probing?: boolean;
  /** A private session: every request goes over the channel, none to the relay (which refuses them). */
  private?: boolean;
  /** The speed mechanisms the server switched off, for an on/off A/B (sw/switches.ts). Absent: no news, the SW keeps what it has. */
  off?: SpeedSwitch[];
  exclude: string[];
}

/** frame (shim) → SW: this app document belongs to shell `shellId`. */
export interface FrameAnnounce {
  type: 'wingman:frame';
  shellId: string;
}

/** shell → SW, with a reply port: the Cookie header the SW's jar holds for `url` (for P2P WebSockets). */
interface CookieQuery {
  type: 'wingman:cookie';
  url: string;
}

/** shim → SW, with a reply port: a one-time ticket for a relayed WebSocket to `url` (WS_TICKET_PATH); the cookies never leave the SW. */
export interface WsTicketQuery {
  type: 'wingman:ws-ticket';
  url: string;
}

/** SW → shim on the query's port: '' when there is nothing to add or minting failed. */
export interface WsTicketReply {
  ticket: string;
}

/** frame (shim) → SW: the app aborted the fetch carrying ABORT_ID_HEADER `id`. */
export interface AbortNotice {
  type: 'wingman:abort';
  id: string;
}

/** shell (inline script) → SW, on a first visit, with a port: the app's document it fetched while the SW installed comes on it. */
export interface EarlyDocument {
  type: 'wingman:early-doc';
  url: string;
}

/** On an EarlyDocument's port: the response (the body as a transferred stream, or whole where streams do not transfer). */
export interface EarlyDocumentAnswer {
  status: number;
  headers: WireHeaders;
  body: ReadableStream<Uint8Array> | ArrayBuffer | null;
}

type WindowToSw = ShellAnnounce | FrameAnnounce | CookieQuery | WsTicketQuery | AbortNotice | EarlyDocument;

/** SW → windows: a restarted SW asks shells and frames to announce themselves again. */
interface SyncRequest {
  type: 'wingman:sync';
}

/** SW → shell, with the request's port: carry this request over the data channel. */
export interface FetchRequest {
  type: 'wingman:fetch';
  method: string;
  target: string;
  headers: WireHeaders;
  /** A body follows as `data` / `end` messages on the port, after `accept`. */
  hasBody: boolean;
}

/** SW → shell: which path each request class takes now (path-choice.ts), for the badge. */
export interface PathsUpdate {
  type: 'wingman:paths';
  small: 'p2p' | 'relay';
  bulk: 'p2p' | 'relay';
}

/** SW → shell, with a reply port: write these `document.cookie` assignments (sw/cookie-mirror.ts); the shell replies `{ done: true }`. */
export interface CookieWrite {
  type: 'wingman:cookie-write';
  lines: string[];
}

type SwToWindow = SyncRequest | FetchRequest | PathsUpdate | CookieWrite;

// ---- per-request port -------------------------------------------------------

/** A body piece (ArrayBuffer, transferred). Direction tells whether it is the request's or the response's. */
export interface BodyData {
  t: 'data';
  chunk: ArrayBuffer;
}
export interface BodyEnd {
  t: 'end';
}
/** The receiver consumed `bytes`: the sender may send that much more. */
export interface BodyCredit {
  t: 'credit';
  bytes: number;
}

export type ShellToSwPort =
  | { t: 'accept' }
  | { t: 'decline'; reason: string }
  | { t: 'head'; status: number; headers: WireHeaders }
  | BodyData
  | BodyEnd
  | BodyCredit
  /** The stream failed (before or after the head). `code` is a protocol ERR_* code. */
  | { t: 'abort'; code: string; message: string };

/** Several port messages posted in one task, sent as one (head + body + end of a small response: one hop instead of three). */
export interface PortBatch<M> {
  t: 'batch';
  items: M[];
}

/** Largest batch accepted (a batch holds what one data-channel message produced: a few frames). */
export const MAX_BATCH_ITEMS = 256;

export type SwToShellPort =
  | BodyData
  | BodyEnd
  | BodyCredit
  /** The request is abandoned (fetch aborted, response body cancelled): reset the stream. */
  | { t: 'cancel'; reason: string };

// ---- shim ⇄ shell ------------------------------------------------------------

/** shim → shell (window.postMessage on top, with a port): open a WebSocket over the data channel if there is one. */
export interface WsOpenRequest {
  type: 'wingman:ws-open';
  url: string;
  protocols: string[];
}

/** shim → shell: the frame's location or title changed (SPA navigation, title update). */
export interface LocationUpdate {
  type: 'wingman:location';
  href: string;
  title: string;
}

/** shim → shell: the app registered a Service Worker of its own (`script`: its URL); Wingman steps aside for this browser. */
export interface OwnServiceWorker {
  type: 'wingman:own-sw';
  script: string;
}

type ShimToShell = WsOpenRequest | LocationUpdate | OwnServiceWorker;

export type ShellToShimPort =
  /** No channel: open a real WebSocket (the tunnel server relays it). */
  | { t: 'fallback'; reason: string }
  /** The channel is coming up: wait (up to CHANNEL_COMING_WAIT_MS more) for open, fallback or close. */
  | { t: 'wait' }
  | { t: 'open'; protocol: string }
  | { t: 'message'; data: string | ArrayBuffer }
  | { t: 'close'; code: number; reason: string; wasClean: boolean }
  | { t: 'error'; message: string };

export type ShimToShellPort = { t: 'send'; data: string | ArrayBuffer } | { t: 'close'; code: number; reason: string };

// ---- validation ----------------------------------------------------------------

type Obj = Record<string, unknown>;

const MAX_ID_CHARS = 64;
const MAX_URL_CHARS = 16 * 1024;
const MAX_HEADERS = 256;
const MAX_HEADER_VALUE_CHARS = 16 * 1024;
const MAX_EXCLUDES = 64;
const MAX_REASON_CHARS = 1024;
/** One cookie-write message: at most the jar's whole size. */
const MAX_COOKIE_WRITES = MAX_COOKIES;
/** A cookie of MAX_COOKIE_BYTES plus its attributes (path, expires, samesite, secure). */
const MAX_COOKIE_LINE_CHARS = MAX_COOKIE_BYTES + 1024;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** Realm-independent (a value posted from another realm is not `instanceof` this realm's ArrayBuffer in every runtime). */
function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

function str(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

function isHeaderList(v: unknown): v is WireHeaders {
  return (
    Array.isArray(v) &&
    v.length <= MAX_HEADERS &&
    v.every((h) => Array.isArray(h) && h.length === 2 && str(h[0], 256) && /^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h[0]) && str(h[1], MAX_HEADER_VALUE_CHARS))
  );
}

function isSwitchList(v: unknown): v is SpeedSwitch[] {
  return Array.isArray(v) && v.length <= SPEED_SWITCHES.length && v.every((n) => (SPEED_SWITCHES as readonly unknown[]).includes(n));
}

function isExclude(v: unknown): v is string[] {
  return Array.isArray(v) && v.length <= MAX_EXCLUDES && v.every((p) => str(p, 512) && p.startsWith('/'));
}

const optionalFlags = (o: Obj, names: readonly string[]) => names.every((n) => o[n] === undefined || typeof o[n] === 'boolean');

type Shapes = Readonly<Record<string, (o: Obj) => boolean>>;

/** `v` itself when its `key` names one of `shapes` and passes that shape's check (posted data is a structured clone: plain data). */
function checked<M>(v: unknown, key: 't' | 'type', shapes: Shapes): M | undefined {
  const o = obj(v);
  const kind = o?.[key];
  return typeof kind === 'string' && Object.hasOwn(shapes, kind) && shapes[kind]!(o!) ? (o as M) : undefined;
}

const WINDOW_TO_SW: Shapes = {
  'wingman:frame': (o) => str(o.shellId, MAX_ID_CHARS),
  'wingman:cookie': (o) => str(o.url, MAX_URL_CHARS),
  'wingman:ws-ticket': (o) => str(o.url, MAX_URL_CHARS),
  'wingman:abort': (o) => str(o.id, MAX_ID_CHARS),
  'wingman:early-doc': (o) => str(o.url, MAX_URL_CHARS) && o.url.startsWith('/'),
};

/** Messages a window may send the SW; undefined for anything else (ignored). */
export function parseWindowToSw(v: unknown): WindowToSw | undefined {
  const o = obj(v);
  if (o?.type !== 'wingman:shell') return checked(v, 'type', WINDOW_TO_SW);
  return str(o.shellId, MAX_ID_CHARS) &&
    typeof o.p2p === 'boolean' &&
    isExclude(o.exclude) &&
    optionalFlags(o, ['turn', 'lossy', 'lossClean', 'probing', 'private']) &&
    !(o.lossy === true && o.lossClean === true) &&
    (o.off === undefined || isSwitchList(o.off))
    ? {
        type: o.type,
        shellId: o.shellId,
        p2p: o.p2p,
        exclude: o.exclude,
        ...(o.turn ? { turn: true } : {}),
        ...(o.lossy ? { lossy: true } : {}),
        ...(o.lossClean ? { lossClean: true } : {}),
        ...(o.probing && o.p2p ? { probing: true } : {}),
        ...(o.private ? { private: true } : {}),
        ...(o.off !== undefined ? { off: [...o.off] } : {}),
      }
    : undefined;
}

/** The shell's answer on an EarlyDocument port; undefined when it has none (its fetch failed) or for anything malformed. */
export function parseEarlyDocumentAnswer(v: unknown): EarlyDocumentAnswer | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const { status, headers, body } = o;
  const streamed = typeof ReadableStream === 'function' && body instanceof ReadableStream;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599 || !isHeaderList(headers)) return undefined;
  if (!(streamed || isArrayBuffer(body) || body === null)) return undefined;
  return { status, headers, body: body as EarlyDocumentAnswer['body'] };
}

/** A ticket as the tunnel server mints it (base64url), or '' (none). */
const WS_TICKET_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

/** The SW's answer to a WsTicketQuery; '' for anything malformed. */
export function parseWsTicketReply(v: unknown): string {
  const t = obj(v)?.ticket;
  return typeof t === 'string' && WS_TICKET_PATTERN.test(t) ? t : '';
}

const isPath = (x: unknown) => x === 'p2p' || x === 'relay';
const SW_TO_WINDOW: Shapes = {
  'wingman:sync': () => true,
  'wingman:paths': (o) => isPath(o.small) && isPath(o.bulk),
  'wingman:cookie-write': (o) => Array.isArray(o.lines) && o.lines.length <= MAX_COOKIE_WRITES && o.lines.every((l) => str(l, MAX_COOKIE_LINE_CHARS)),
  'wingman:fetch': (o) =>
    str(o.method, 32) && str(o.target, MAX_URL_CHARS) && o.target.startsWith('/') && isHeaderList(o.headers) && typeof o.hasBody === 'boolean',
};

/** Messages the SW sends a window. */
export const parseSwToWindow = (v: unknown) => checked<SwToWindow>(v, 'type', SW_TO_WINDOW);

const BODY: Shapes = {
  data: (o) => isArrayBuffer(o.chunk),
  end: () => true,
  credit: (o) => typeof o.bytes === 'number' && Number.isSafeInteger(o.bytes) && o.bytes > 0,
};

/** Unpacks a port message that may be a batch; invalid items are dropped, an invalid batch yields nothing. */
export function unbatch<M>(v: unknown, parse: (item: unknown) => M | undefined): M[] {
  const o = obj(v);
  const items: unknown[] = o?.t !== 'batch' ? [v] : Array.isArray(o.items) && o.items.length <= MAX_BATCH_ITEMS ? o.items : [];
  return items.map((item) => parse(item)).filter((m) => m !== undefined);
}

const SHELL_TO_SW_PORT: Shapes = {
  ...BODY,
  accept: () => true,
  decline: (o) => str(o.reason, MAX_REASON_CHARS),
  head: (o) => typeof o.status === 'number' && Number.isInteger(o.status) && o.status >= 100 && o.status <= 999 && isHeaderList(o.headers),
  abort: (o) => str(o.code, 64) && str(o.message, MAX_REASON_CHARS),
};
export const parseShellToSwPort = (v: unknown) => checked<ShellToSwPort>(v, 't', SHELL_TO_SW_PORT);

export function parseSwToShellPort(v: unknown): SwToShellPort | undefined {
  const o = obj(v);
  if (o?.t === 'cancel') return { t: 'cancel', reason: str(o.reason, MAX_REASON_CHARS) ? o.reason : '' };
  return checked(v, 't', BODY);
}

const SHIM_TO_SHELL: Shapes = {
  'wingman:own-sw': (o) => str(o.script, MAX_URL_CHARS),
  'wingman:ws-open': (o) => str(o.url, MAX_URL_CHARS) && Array.isArray(o.protocols) && o.protocols.length <= 32 && o.protocols.every((p) => str(p, 256)),
  'wingman:location': (o) => str(o.href, MAX_URL_CHARS) && str(o.title, 1024),
};
export const parseShimToShell = (v: unknown) => checked<ShimToShell>(v, 'type', SHIM_TO_SHELL);

const SHIM_TO_SHELL_PORT: Shapes = {
  send: (o) => typeof o.data === 'string' || isArrayBuffer(o.data),
  close: (o) => typeof o.code === 'number' && Number.isInteger(o.code) && str(o.reason, 256),
};
export const parseShimToShellPort = (v: unknown) => checked<ShimToShellPort>(v, 't', SHIM_TO_SHELL_PORT);

const SHELL_TO_SHIM_PORT: Shapes = {
  fallback: (o) => str(o.reason, MAX_REASON_CHARS),
  wait: () => true,
  open: (o) => str(o.protocol, 256),
  message: (o) => typeof o.data === 'string' || isArrayBuffer(o.data),
  close: (o) => typeof o.code === 'number' && str(o.reason, 1024) && typeof o.wasClean === 'boolean',
  error: (o) => str(o.message, MAX_REASON_CHARS),
};
export const parseShellToShimPort = (v: unknown) => checked<ShellToShimPort>(v, 't', SHELL_TO_SHIM_PORT);
