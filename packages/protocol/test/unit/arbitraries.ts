/**
 * fast-check arbitraries for the wire protocol: valid heads and frames (for
 * round trips), and frame scripts a peer could send (for fuzzing a Connection).
 * FAST_CHECK_SEED pins the runs (override with the env var to explore).
 */
import fc from 'fast-check';
import {
  encodeCodeReason,
  encodeFrame,
  encodeRequestHead,
  encodeResponseHead,
  encodeWindowUpdate,
  ERROR_CODES,
  Flag,
  FrameType,
  MAX_PAYLOAD_BYTES,
  type HeaderList,
  type RequestHead,
  type ResponseHead,
} from '@wingman/protocol';
import { hello } from './raw-peer';

export const FAST_CHECK_SEED = Number(process.env.FAST_CHECK_SEED ?? 20260521);

/** Flags each frame type allows (docs/PROTOCOL.md §Frames), restated here so the tests pin the spec. */
export const ALLOWED_FLAGS: Record<number, number> = {
  [FrameType.HELLO]: 0,
  [FrameType.REQUEST]: Flag.END_STREAM,
  [FrameType.RESPONSE]: Flag.END_STREAM,
  [FrameType.DATA]: Flag.END_STREAM,
  [FrameType.WINDOW_UPDATE]: 0,
  [FrameType.RESET]: 0,
  [FrameType.WS_OPEN]: 0,
  [FrameType.WS_MESSAGE]: Flag.TEXT | Flag.MORE,
  [FrameType.WS_CLOSE]: 0,
  [FrameType.PING]: 0,
  [FrameType.PONG]: 0,
  [FrameType.GOAWAY]: 0,
};

export const CONNECTION_TYPES: ReadonlySet<number> = new Set([FrameType.HELLO, FrameType.PING, FrameType.PONG, FrameType.GOAWAY]);

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz".split('');
const METHOD_CHARS = [...TCHARS, ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
// Values: HTAB, visible ASCII, SP and obs-text (0x80-0xff); never CR, LF, NUL or other controls.
const VALUE_CHARS = [
  '\t',
  ...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)),
  ...Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(0x80 + i)),
];
const TARGET_CHARS = [...Array.from({ length: 0x7f - 0x21 }, (_, i) => String.fromCharCode(0x21 + i)), '\xe9', '\xff'];

const chars = (set: string[], minLength: number, maxLength: number) => fc.array(fc.constantFrom(...set), { minLength, maxLength }).map((a) => a.join(''));

export const headerNameArb = chars(TCHARS, 1, 40);
export const headerValueArb = chars(VALUE_CHARS, 0, 120);
export const headersArb: fc.Arbitrary<HeaderList> = fc.array(fc.tuple(headerNameArb, headerValueArb), { maxLength: 40 });

export const requestHeadArb: fc.Arbitrary<RequestHead> = fc.record({
  method: chars(METHOD_CHARS, 1, 32),
  target: chars(TARGET_CHARS, 0, 300).map((t) => `/${t}`),
  headers: headersArb,
});

export const responseHeadArb: fc.Arbitrary<ResponseHead> = fc.record({ status: fc.integer({ min: 100, max: 999 }), headers: headersArb });

/** Any valid frame: a type, a subset of its allowed flags, a stream id on the right side of 0, any payload. */
export const frameArb = fc
  .record({
    type: fc.integer({ min: 0, max: FrameType.GOAWAY }),
    flagBits: fc.integer({ min: 0, max: 7 }),
    streamId: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 0xffffffff })),
    // Large payloads are patterned, not drawn byte by byte (which costs ~1 ms per KiB).
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .tuple(fc.integer({ min: MAX_PAYLOAD_BYTES - 16, max: MAX_PAYLOAD_BYTES }), fc.nat(255))
        .map(([n, b]) => new Uint8Array(n).map((_, i) => (b + i * 31) & 0xff)),
    ),
  })
  .map(({ type, flagBits, streamId, payload }) => ({
    type: type as FrameType,
    flags: flagBits & ALLOWED_FLAGS[type]!,
    streamId: CONNECTION_TYPES.has(type) ? 0 : streamId,
    payload,
  }));

// ---- scripts a peer might send to a 'server' Connection --------------------------

/** One step of a peer script, resolved to frames against the streams opened so far. */
type Opened = { http: number[]; ws: number[]; next: number };
type Step = (opened: Opened) => Uint8Array[];

const codes = Object.values(ERROR_CODES);

function openFrame(o: Opened, head: RequestHead, ws: boolean, end: boolean): Uint8Array {
  const id = o.next;
  o.next += 2;
  if (ws) {
    o.ws.push(id);
    return encodeFrame(FrameType.WS_OPEN, 0, id, encodeRequestHead({ ...head, method: 'GET' }));
  }
  o.http.push(id);
  return encodeFrame(FrameType.REQUEST, end ? Flag.END_STREAM : 0, id, encodeRequestHead(head));
}

/** A frame on one of the streams of a kind, opening one first when there is none. */
function onStream(ws: boolean, i: number, frame: (id: number) => Uint8Array): Step {
  return (o) => {
    const ids = ws ? o.ws : o.http;
    const pre = ids.length === 0 ? [openFrame(o, { method: 'GET', target: '/', headers: [] }, ws, false)] : [];
    return [...pre, frame(ids[i % ids.length]!)];
  };
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 15, arbitrary: fc.tuple(requestHeadArb, fc.boolean(), fc.boolean()).map(([head, ws, end]): Step => (o) => [openFrame(o, head, ws, end)]) },
  {
    weight: 20,
    arbitrary: fc
      .tuple(fc.nat(), fc.uint8Array({ maxLength: 3000 }), fc.boolean())
      .map(([i, p, end]) => onStream(false, i, (id) => encodeFrame(FrameType.DATA, end ? Flag.END_STREAM : 0, id, p))),
  },
  {
    weight: 20,
    arbitrary: fc
      .tuple(fc.nat(), fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 3 }))
      .map(([i, p, flags]) => onStream(true, i, (id) => encodeFrame(FrameType.WS_MESSAGE, flags << 1, id, p))),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.nat(), fc.integer({ min: 1000, max: 4999 }))
      .map(([i, code]) => onStream(true, i, (id) => encodeFrame(FrameType.WS_CLOSE, 0, id, encodeCodeReason(code, 'bye')))),
  },
  {
    weight: 10,
    arbitrary: fc.tuple(fc.nat(), fc.integer({ min: 1, max: 1 << 20 })).map(([i, inc]): Step => (o) => {
      const ids = [...o.http, ...o.ws, 2];
      return [encodeFrame(FrameType.WINDOW_UPDATE, 0, ids[i % ids.length]!, encodeWindowUpdate(inc))];
    }),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.nat(), fc.boolean(), fc.constantFrom(...codes))
      .map(([i, ws, code]) => onStream(ws, i, (id) => encodeFrame(FrameType.RESET, 0, id, encodeCodeReason(code, 'r')))),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(responseHeadArb, fc.boolean())
      .map(([head, end]): Step => () => [encodeFrame(FrameType.RESPONSE, end ? Flag.END_STREAM : 0, 2, encodeResponseHead(head))]),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(fc.nat(), fc.uint8Array({ maxLength: 2000 }))
      .map(([n, p]): Step => () => [encodeFrame(FrameType.DATA, 0, 2, p.subarray(0, n % (p.length + 1)))]),
  },
  { weight: 5, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p): Step => () => [encodeFrame(FrameType.PING, 0, 0, p)]) },
  { weight: 5, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((p): Step => () => [encodeFrame(FrameType.PONG, 0, 0, p)]) },
  { weight: 1, arbitrary: fc.constantFrom(...codes).map((code): Step => () => [encodeFrame(FrameType.GOAWAY, 0, 0, encodeCodeReason(code))]) },
);

/** A plausible peer script: HELLO, then frames on the streams it opened; one Uint8Array per frame. */
export const scriptArb: fc.Arbitrary<Uint8Array[]> = fc.array(stepArb, { maxLength: 30 }).map((steps) => {
  const opened: Opened = { http: [], ws: [], next: 1 };
  return [hello(), ...steps.flatMap((s) => s(opened))];
});

/** A mutation of one frame's bytes. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'cut'; at: number; n: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 12 }) }),
);

function mutate(frame: Uint8Array, m: Mutation): Uint8Array {
  const at = frame.length === 0 ? 0 : m.at % frame.length;
  switch (m.kind) {
    case 'flip': {
      const out = frame.slice();
      if (out.length > 0) out[at] = out[at]! ^ (1 << m.bit);
      return out;
    }
    case 'truncate':
      return frame.slice(0, at);
    case 'splice':
      return new Uint8Array([...frame.subarray(0, at), ...m.bytes, ...frame.subarray(at)]);
    case 'cut':
      return new Uint8Array([...frame.subarray(0, at), ...frame.subarray(at + m.n)]);
  }
}

/**
 * A script, a few frames mutated (bit flips, truncation, splices, cuts),
 * frames dropped or duplicated, then grouped into transport messages.
 */
export const mutatedMessagesArb: fc.Arbitrary<Uint8Array[]> = fc
  .tuple(
    scriptArb,
    fc.array(fc.tuple(fc.nat(), mutationArb), { maxLength: 4 }),
    fc.array(fc.tuple(fc.nat(), fc.boolean()), { maxLength: 2 }),
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 40 }),
  )
  .map(([frames, mutations, reorders, groups]) => {
    const out = frames.slice();
    for (const [i, m] of mutations) out[i % out.length] = mutate(out[i % out.length]!, m);
    for (const [i, dup] of reorders) {
      if (out.length === 0) break;
      const k = i % out.length;
      if (dup) out.splice(k, 0, out[k]!);
      else out.splice(k, 1);
    }
    const messages: Uint8Array[] = [];
    let g = 0;
    for (let i = 0; i < out.length;) {
      const n = groups[g++ % groups.length]!;
      const parts = out.slice(i, i + n);
      i += n;
      const m = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) {
        m.set(p, o);
        o += p.length;
      }
      messages.push(m);
    }
    return messages;
  });
