/** Payload codecs of HELLO, heads (REQUEST / WS_OPEN / RESPONSE), WINDOW_UPDATE and code + reason. docs/PROTOCOL.md §Payloads. */
import {
  MAGIC,
  MAX_HEADER_COUNT,
  MAX_HEADER_NAME_BYTES,
  MAX_METHOD_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_REASON_BYTES,
  MAX_TARGET_BYTES,
  MAX_WINDOW_BYTES,
  PROTOCOL_VERSION,
} from './constants';
import { protocolError, type ErrorCode, ERROR_CODES, errorCodeFromNumber } from './errors';

/** A header list in wire order; names lower-case. Repeated names stay repeated (Set-Cookie). */
export type HeaderList = Array<[name: string, value: string]>;

export interface RequestHead {
  method: string;
  /** Origin-form request target: path and query, starting with "/". */
  target: string;
  headers: HeaderList;
}

export interface ResponseHead {
  status: number;
  headers: HeaderList;
}

export interface Hello {
  version: number;
  /** Capability bits (CAPABILITIES). Unknown bits are ignored: they announce optional features. */
  capabilities: number;
  maxConcurrentStreams: number;
  initialWindow: number;
}

export const CAPABILITIES = {
  HTTP: 0x1,
  WEBSOCKET: 0x2,
} as const;

const HELLO_BYTES = 4 + 1 + 1 + 2 + 2 + 4;

export function encodeHello(h: Hello): Uint8Array {
  const out = new Uint8Array(HELLO_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  out[4] = h.version;
  out[5] = 0;
  view.setUint16(6, h.capabilities);
  view.setUint16(8, h.maxConcurrentStreams);
  view.setUint32(10, h.initialWindow);
  return out;
}

export function decodeHello(p: Uint8Array): Hello {
  if (p.length < 4 || MAGIC.some((b, i) => p[i] !== b)) throw protocolError('ERR_BAD_MAGIC', 'HELLO does not start with "WGMN"');
  if (p.length < 5) throw protocolError('ERR_INVALID_PAYLOAD', 'HELLO too short');
  if (p[4] !== PROTOCOL_VERSION) throw protocolError('ERR_UNSUPPORTED_VERSION', `peer speaks version ${p[4]}, this side ${PROTOCOL_VERSION}`);
  if (p.length !== HELLO_BYTES) throw protocolError('ERR_INVALID_PAYLOAD', `HELLO of ${p.length} bytes, expected ${HELLO_BYTES}`);
  const view = view_(p);
  const hello: Hello = {
    version: p[4]!,
    capabilities: view.getUint16(6),
    maxConcurrentStreams: view.getUint16(8),
    initialWindow: view.getUint32(10),
  };
  if (hello.initialWindow === 0 || hello.initialWindow > MAX_WINDOW_BYTES) {
    throw protocolError('ERR_FLOW_CONTROL', `HELLO initial window ${hello.initialWindow} out of range`);
  }
  return hello;
}

export function encodeWindowUpdate(increment: number): Uint8Array {
  const out = new Uint8Array(4);
  view_(out).setUint32(0, increment);
  return out;
}

export function decodeWindowUpdate(p: Uint8Array): number {
  if (p.length !== 4) throw protocolError('ERR_INVALID_PAYLOAD', `WINDOW_UPDATE payload of ${p.length} bytes, expected 4`);
  const inc = view_(p).getUint32(0);
  if (inc === 0 || inc > MAX_WINDOW_BYTES) throw protocolError('ERR_FLOW_CONTROL', `WINDOW_UPDATE increment ${inc} out of range`);
  return inc;
}

export interface CodeReason {
  code: number;
  reason: string;
}

/** RESET and GOAWAY: u16 error number + UTF-8 reason. WS_CLOSE: u16 WebSocket close code + UTF-8 reason. */
export function encodeCodeReason(code: number, reason = ''): Uint8Array {
  let r = utf8.encode(reason);
  if (r.length > MAX_REASON_BYTES) {
    // Cut on a character boundary: a split UTF-8 sequence would make the peer's
    // (fatal) decoder reject the whole frame. 0b10xxxxxx bytes continue a character.
    let end = MAX_REASON_BYTES;
    while (end > 0 && (r[end]! & 0xc0) === 0x80) end--;
    r = r.subarray(0, end);
  }
  const out = new Uint8Array(2 + r.length);
  view_(out).setUint16(0, code);
  out.set(r, 2);
  return out;
}

export function decodeCodeReason(p: Uint8Array): CodeReason {
  if (p.length < 2) throw protocolError('ERR_INVALID_PAYLOAD', 'code + reason payload shorter than 2 bytes');
  if (p.length > 2 + MAX_REASON_BYTES) throw protocolError('ERR_INVALID_PAYLOAD', `reason longer than ${MAX_REASON_BYTES} bytes`);
  return { code: view_(p).getUint16(0), reason: utf8Decode(p.subarray(2)) };
}

export function encodeReset(code: ErrorCode, reason = ''): Uint8Array {
  return encodeCodeReason(ERROR_CODES[code], reason);
}

export function decodeReset(p: Uint8Array): { code: ErrorCode; reason: string } {
  const { code, reason } = decodeCodeReason(p);
  return { code: errorCodeFromNumber(code), reason };
}

// ---- heads ----------------------------------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
// Origin-form targets only (RFC 9112 §3.2.1): "/" then no whitespace or controls; absolute-form,
// authority-form and "*" never cross the tunnel (the agent forwards to one configured origin).
function isOriginForm(target: string): boolean {
  return target[0] === '/' && !/[\x00-\x20\x7f]/.test(target);
}
// Field values: visible latin1 + SP/HTAB; never CR, LF or NUL (request smuggling, RFC 9110 §5.5).
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Encodes a request head (REQUEST, WS_OPEN). Throws ProtocolError for heads the wire cannot carry. */
export function encodeRequestHead(head: RequestHead): Uint8Array {
  const w = new Writer(3 + head.method.length + head.target.length + headersBytes(head.headers));
  const method = latin1Encode(head.method);
  if (method.length === 0 || method.length > MAX_METHOD_BYTES || !TOKEN.test(head.method.toLowerCase())) {
    throw protocolError('ERR_INVALID_HEAD', `invalid method "${head.method.slice(0, 40)}"`);
  }
  const target = latin1Encode(head.target);
  if (target.length > MAX_TARGET_BYTES) throw protocolError('ERR_HEADER_TOO_LARGE', `request target of ${target.length} bytes > ${MAX_TARGET_BYTES}`);
  // The same rule as the decoder: a head this side sends must be one the peer accepts.
  if (!isOriginForm(head.target)) throw protocolError('ERR_INVALID_HEAD', 'request target must be origin-form');
  w.u8(method.length).bytes(method).u16(target.length).bytes(target);
  writeHeaders(w, head.headers);
  return w.finish();
}

export function decodeRequestHead(p: Uint8Array): RequestHead {
  const r = new Reader(p);
  const method = r.latin1(r.u8());
  if (method.length === 0 || method.length > MAX_METHOD_BYTES || !TOKEN.test(method.toLowerCase())) {
    throw protocolError('ERR_INVALID_HEAD', 'invalid method');
  }
  const targetLen = r.u16();
  if (targetLen > MAX_TARGET_BYTES) throw protocolError('ERR_HEADER_TOO_LARGE', `request target of ${targetLen} bytes`);
  const target = r.latin1(targetLen);
  if (!isOriginForm(target)) throw protocolError('ERR_INVALID_HEAD', 'request target must be origin-form');
  const headers = readHeaders(r);
  r.end();
  return { method, target, headers };
}

export function encodeResponseHead(head: ResponseHead): Uint8Array {
  if (!Number.isInteger(head.status) || head.status < 100 || head.status > 999) {
    throw protocolError('ERR_INVALID_HEAD', `invalid status ${head.status}`);
  }
  const w = new Writer(2 + headersBytes(head.headers));
  w.u16(head.status);
  writeHeaders(w, head.headers);
  return w.finish();
}

export function decodeResponseHead(p: Uint8Array): ResponseHead {
  const r = new Reader(p);
  const status = r.u16();
  if (status < 100 || status > 999) throw protocolError('ERR_INVALID_HEAD', `invalid status ${status}`);
  const headers = readHeaders(r);
  r.end();
  return { status, headers };
}

/** What writeHeaders writes for latin1 text: the exact size of the Writer's one buffer. */
function headersBytes(headers: HeaderList): number {
  let n = 2;
  for (const [name, value] of headers) n += 3 + name.length + value.length;
  return n;
}

function writeHeaders(w: Writer, headers: HeaderList): void {
  if (headers.length > MAX_HEADER_COUNT) throw protocolError('ERR_TOO_MANY_HEADERS', `${headers.length} headers > ${MAX_HEADER_COUNT}`);
  w.u16(headers.length);
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name.length === 0 || name.length > MAX_HEADER_NAME_BYTES || !TOKEN.test(name)) {
      throw protocolError('ERR_INVALID_HEADER', `invalid header name "${rawName.slice(0, 40)}"`);
    }
    if (BAD_VALUE.test(value)) throw protocolError('ERR_INVALID_HEADER', `header "${name}" has a control character`);
    w.u8(name.length).latin1(name).u16(value.length).latin1(value);
  }
  if (w.length > MAX_PAYLOAD_BYTES) throw protocolError('ERR_HEADER_TOO_LARGE', `head of ${w.length} bytes > ${MAX_PAYLOAD_BYTES}`);
}

function readHeaders(r: Reader): HeaderList {
  const count = r.u16();
  if (count > MAX_HEADER_COUNT) throw protocolError('ERR_TOO_MANY_HEADERS', `${count} headers > ${MAX_HEADER_COUNT}`);
  const headers: HeaderList = [];
  for (let i = 0; i < count; i++) {
    const name = r.latin1(r.u8());
    if (!TOKEN.test(name)) throw protocolError('ERR_INVALID_HEADER', 'invalid header name (must be a lower-case token)');
    const value = r.latin1(r.u16());
    if (BAD_VALUE.test(value)) throw protocolError('ERR_INVALID_HEADER', `header "${name}" has a control character`);
    headers.push([name, value]);
  }
  return headers;
}

// ---- byte helpers ---------------------------------------------------------

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function utf8Decode(b: Uint8Array): string {
  try {
    return utf8Decoder.decode(b);
  } catch {
    throw protocolError('ERR_INVALID_PAYLOAD', 'reason is not valid UTF-8');
  }
}

function view_(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** HTTP field text is bytes (RFC 9110 §5.5); latin1 maps each byte to one code unit both ways. */
export function latin1Encode(s: string): Uint8Array {
  return new Writer(s.length).latin1(s).finish();
}

/** Bytes per String.fromCharCode call: far below any engine's argument-count limit. */
const LATIN1_CHUNK_BYTES = 4096;

export function latin1Decode(b: Uint8Array): string {
  // A Node Buffer (what ws and the data channel hand over) decodes natively: on a 700-byte head 0.1 µs, apply() 2.4 µs.
  const native = (b as { latin1Slice?: (start: number, end: number) => string }).latin1Slice;
  if (native) return native.call(b, 0, b.length);
  // apply(), not a spread, which runs the iterator per byte (header decoding ~5× slower).
  if (b.length <= LATIN1_CHUNK_BYTES) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += LATIN1_CHUNK_BYTES) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + LATIN1_CHUNK_BYTES) as unknown as number[]);
  }
  return s;
}

class Writer {
  private buf: Uint8Array;
  length = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  u8(v: number): this {
    this.grow(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.grow(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** Written in place, no array per field. */
  latin1(s: string): this {
    this.grow(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) throw protocolError('ERR_INVALID_HEADER', 'header text outside latin1');
      this.buf[this.length++] = c;
    }
    return this;
  }
  finish(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}

class Reader {
  private offset = 0;
  /** The whole payload as latin1, decoded once: a field is a slice of it, not a view and a decode of its own. */
  private text: string | undefined;
  constructor(private readonly buf: Uint8Array) {}
  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw protocolError('ERR_INVALID_HEAD', 'head payload truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.offset]! << 8) | this.buf[this.offset + 1]!;
    this.offset += 2;
    return v;
  }
  latin1(n: number): string {
    this.need(n);
    this.text ??= latin1Decode(this.buf);
    return this.text.slice(this.offset, (this.offset += n));
  }
  end(): void {
    if (this.offset !== this.buf.length) throw protocolError('ERR_INVALID_HEAD', `${this.buf.length - this.offset} trailing bytes after head`);
  }
}
