/**
 * Property tests of the decoders: random and near-valid bytes produce frames
 * or a coded ProtocolError, never another exception; valid frames and heads
 * survive encode → decode unchanged.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeCodeReason,
  decodeFrames,
  decodeHello,
  decodeRequestHead,
  decodeResponseHead,
  decodeWindowUpdate,
  encodeCodeReason,
  encodeFrame,
  encodeHello,
  encodeRequestHead,
  encodeResponseHead,
  encodeWindowUpdate,
  ERROR_CODES,
  FRAME_HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_REASON_BYTES,
  MAX_WINDOW_BYTES,
  ProtocolError,
  PROTOCOL_VERSION,
} from '@wingman/protocol';
import { ALLOWED_FLAGS, CONNECTION_TYPES, FAST_CHECK_SEED, frameArb, requestHeadArb, responseHeadArb } from './arbitraries';

const params = { seed: FAST_CHECK_SEED, numRuns: 2000 };

/** Strings of any code points (ASCII-heavy, some 2-, 3- and 4-byte UTF-8), built fast (fc.string's 'binary' unit costs ~1 ms per value). */
function unicodeArb(maxLength: number): fc.Arbitrary<string> {
  const cp = fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0x7ff }),
    fc.integer({ min: 0x800, max: 0xd7ff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  );
  return fc.array(cp, { maxLength }).map((cps) => String.fromCodePoint(...cps));
}

/** Runs `fn`; returns its result or the ProtocolError it threw; fails on any other exception. */
function codedOrValue<T>(fn: () => T): T | ProtocolError {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw new Error(`not a ProtocolError: ${String(err)}`);
    assert.ok(err.code in ERROR_CODES, `unknown code ${err.code}`);
    assert.ok(err.message.startsWith(`${err.code}: `), err.message);
    return err;
  }
}

/** Bytes shaped like frame headers (plausible types, lengths near the truth), so the fuzzer reaches past the first check. */
const nearFrameArb = fc
  .tuple(
    fc.integer({ min: 0, max: 15 }),
    fc.integer({ min: 0, max: 255 }),
    fc.uint8Array({ maxLength: 40 }),
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(0, 1, 2, 0xffffffff),
  )
  .map(([type, flags, payload, skew, id]) => {
    const len = Math.max(0, payload.length + skew);
    return Uint8Array.from([type, flags, len >>> 8, len & 0xff, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff, ...payload]);
  });

describe('decoders on arbitrary input', () => {
  it('decodeFrames yields consistent frames or a coded ProtocolError, for random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }),
          fc.array(nearFrameArb, { maxLength: 6 }).map((a) => Uint8Array.from(a.flatMap((f) => [...f]))),
        ),
        (bytes) => {
          const r = codedOrValue(() => decodeFrames(bytes));
          if (r instanceof ProtocolError) return;
          let total = 0;
          for (const f of r) {
            total += FRAME_HEADER_BYTES + f.payload.length;
            assert.ok(f.payload.length <= MAX_PAYLOAD_BYTES);
            assert.equal(f.flags & ~ALLOWED_FLAGS[f.type]!, 0);
            assert.equal(CONNECTION_TYPES.has(f.type), f.streamId === 0);
          }
          assert.equal(total, bytes.length);
        },
      ),
      params,
    );
  });

  it('payload decoders return a value or a coded ProtocolError, for random bytes', () => {
    const decoders = [decodeHello, decodeRequestHead, decodeResponseHead, decodeWindowUpdate, decodeCodeReason];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, withMagic) => {
        // Half the HELLO inputs get the real magic and version, to reach the later checks.
        const hello = withMagic ? Uint8Array.from([0x57, 0x47, 0x4d, 0x4e, PROTOCOL_VERSION, ...bytes.subarray(0, 12)]) : bytes;
        codedOrValue(() => decodeHello(hello));
        for (const d of decoders) codedOrValue(() => d(bytes));
      }),
      params,
    );
  });
});

describe('round trips', () => {
  it('any valid frame sequence encodes and decodes to itself', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 4 }), (frames) => {
        const message = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.flags, f.streamId, f.payload)));
        const back = decodeFrames(message);
        assert.equal(back.length, frames.length);
        back.forEach((f, i) => {
          const want = frames[i]!;
          assert.deepEqual([f.type, f.flags, f.streamId], [want.type, want.flags, want.streamId]);
          assert.ok(Buffer.from(f.payload).equals(want.payload), `payload of frame ${i}`);
        });
      }),
      { ...params, numRuns: 500 },
    );
  });

  it('a request head with random valid headers decodes to itself (names lower-cased)', () => {
    fc.assert(
      fc.property(requestHeadArb, (head) => {
        assert.deepEqual(decodeRequestHead(encodeRequestHead(head)), head);
      }),
      params,
    );
  });

  it('a request head keeps name case-folding as its only change', () => {
    fc.assert(
      fc.property(requestHeadArb, (head) => {
        const shouted = { ...head, headers: head.headers.map(([n, v]): [string, string] => [n.toUpperCase(), v]) };
        assert.deepEqual(decodeRequestHead(encodeRequestHead(shouted)), head);
      }),
      { ...params, numRuns: 500 },
    );
  });

  it('a response head with random valid headers decodes to itself', () => {
    fc.assert(
      fc.property(responseHeadArb, (head) => {
        assert.deepEqual(decodeResponseHead(encodeResponseHead(head)), head);
      }),
      params,
    );
  });

  it('HELLO, WINDOW_UPDATE and code + reason decode to themselves', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 1, max: MAX_WINDOW_BYTES }),
        unicodeArb(MAX_REASON_BYTES / 4), // ≤ 4 UTF-8 bytes per code point: always fits
        (capabilities, maxConcurrentStreams, window, reason) => {
          const h = { version: PROTOCOL_VERSION, capabilities, maxConcurrentStreams, initialWindow: window };
          assert.deepEqual(decodeHello(encodeHello(h)), h);
          assert.equal(decodeWindowUpdate(encodeWindowUpdate(window)), window);
          assert.deepEqual(decodeCodeReason(encodeCodeReason(capabilities, reason)), { code: capabilities, reason });
        },
      ),
      params,
    );
  });

  it('a reason of any length decodes to a prefix of itself', () => {
    fc.assert(
      fc.property(unicodeArb(400), (reason) => {
        const back = decodeCodeReason(encodeCodeReason(1000, reason)).reason;
        assert.ok(reason.startsWith(back), `${JSON.stringify(back)} is not a prefix`);
      }),
      { ...params, numRuns: 500 },
    );
  });
});
