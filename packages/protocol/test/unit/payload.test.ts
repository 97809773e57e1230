/**
 * Payload codecs fed raw bytes: HELLO, WINDOW_UPDATE, code + reason, and the
 * request / response heads. One test per rejection path.
 */
import {
  decodeCodeReason,
  decodeHello,
  decodeRequestHead,
  decodeReset,
  decodeResponseHead,
  decodeWindowUpdate,
  encodeCodeReason,
  latin1Decode,
  latin1Encode,
  encodeHello,
  encodeRequestHead,
  encodeReset,
  encodeResponseHead,
  encodeWindowUpdate,
  MAX_HEADER_COUNT,
  MAX_REASON_BYTES,
  MAX_TARGET_BYTES,
  MAX_WINDOW_BYTES,
  ProtocolError,
  PROTOCOL_VERSION,
  type ErrorCode,
  type HeaderList,
} from '@wingman/protocol';

function rejects(fn: () => unknown, code: ErrorCode, message?: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe(code);
  if (typeof message === 'string') expect((caught as ProtocolError).message).toBe(`${code}: ${message}`);
  else if (message) expect((caught as ProtocolError).message).toMatch(message);
}

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A raw request head: method, target, then [name, value] pairs, each length-prefixed as on the wire. */
function rawRequestHead(method: string, target: string, headers: Array<[string, string]>, count = headers.length): Uint8Array {
  const out: number[] = [method.length, ...ascii(method), target.length >>> 8, target.length & 0xff, ...ascii(target)];
  out.push(count >>> 8, count & 0xff);
  for (const [n, v] of headers) out.push(n.length, ...ascii(n), v.length >>> 8, v.length & 0xff, ...ascii(v));
  return Uint8Array.from(out);
}

describe('HELLO', () => {
  const good = { version: PROTOCOL_VERSION, capabilities: 3, maxConcurrentStreams: 100, initialWindow: 65536 };

  it('is 14 bytes: "WGMN", version, reserved 0, capabilities u16, maxConcurrentStreams u16, initialWindow u32', () => {
    expect([...encodeHello(good)]).toEqual([0x57, 0x47, 0x4d, 0x4e, PROTOCOL_VERSION, 0, 0, 3, 0, 100, 0, 1, 0, 0]);
    expect(decodeHello(encodeHello(good))).toEqual(good);
  });

  it('rejects a bad magic, also when shorter than the magic', () => {
    rejects(() => decodeHello(ascii('WGMX\x01\x00\x00\x03\x00\x64\x00\x01\x00\x00')), 'ERR_BAD_MAGIC', 'HELLO does not start with "WGMN"');
    rejects(() => decodeHello(ascii('WGM')), 'ERR_BAD_MAGIC');
    rejects(() => decodeHello(new Uint8Array(0)), 'ERR_BAD_MAGIC');
  });

  it('rejects an unsupported version before looking at the size (a newer HELLO may be longer)', () => {
    const v2 = encodeHello({ ...good, version: 2 });
    rejects(() => decodeHello(v2), 'ERR_UNSUPPORTED_VERSION', `peer speaks version 2, this side ${PROTOCOL_VERSION}`);
    rejects(() => decodeHello(new Uint8Array([...v2, 0, 0, 0])), 'ERR_UNSUPPORTED_VERSION');
  });

  it('rejects a bad size', () => {
    rejects(() => decodeHello(ascii('WGMN')), 'ERR_INVALID_PAYLOAD', 'HELLO too short');
    rejects(() => decodeHello(encodeHello(good).subarray(0, 13)), 'ERR_INVALID_PAYLOAD', 'HELLO of 13 bytes, expected 14');
    rejects(() => decodeHello(new Uint8Array([...encodeHello(good), 0])), 'ERR_INVALID_PAYLOAD', 'HELLO of 15 bytes, expected 14');
  });

  it('rejects an initial window of 0 or above 2^31-1', () => {
    rejects(() => decodeHello(encodeHello({ ...good, initialWindow: 0 })), 'ERR_FLOW_CONTROL', 'HELLO initial window 0 out of range');
    rejects(
      () => decodeHello(encodeHello({ ...good, initialWindow: MAX_WINDOW_BYTES + 1 })),
      'ERR_FLOW_CONTROL',
      'HELLO initial window 2147483648 out of range',
    );
    expect(decodeHello(encodeHello({ ...good, initialWindow: MAX_WINDOW_BYTES })).initialWindow).toBe(MAX_WINDOW_BYTES);
  });

  it('ignores unknown capability bits and the reserved byte', () => {
    const h = encodeHello({ ...good, capabilities: 0xffff });
    h[5] = 0x7f;
    expect(decodeHello(h).capabilities).toBe(0xffff);
  });
});

describe('WINDOW_UPDATE', () => {
  it('is a u32 increment', () => {
    expect([...encodeWindowUpdate(0x01020304)]).toEqual([1, 2, 3, 4]);
    expect(decodeWindowUpdate(bytes(0x7f, 0xff, 0xff, 0xff))).toBe(MAX_WINDOW_BYTES);
  });

  it('rejects an increment of 0 or above 2^31-1', () => {
    rejects(() => decodeWindowUpdate(bytes(0, 0, 0, 0)), 'ERR_FLOW_CONTROL', 'WINDOW_UPDATE increment 0 out of range');
    rejects(() => decodeWindowUpdate(bytes(0x80, 0, 0, 0)), 'ERR_FLOW_CONTROL', 'WINDOW_UPDATE increment 2147483648 out of range');
  });

  it('rejects a payload that is not 4 bytes', () => {
    rejects(() => decodeWindowUpdate(bytes(0, 0, 1)), 'ERR_INVALID_PAYLOAD', 'WINDOW_UPDATE payload of 3 bytes, expected 4');
    rejects(() => decodeWindowUpdate(bytes(0, 0, 0, 1, 0)), 'ERR_INVALID_PAYLOAD', 'WINDOW_UPDATE payload of 5 bytes, expected 4');
  });
});

describe('code + reason (RESET, WS_CLOSE, GOAWAY)', () => {
  it('is a u16 code and a UTF-8 reason', () => {
    expect([...encodeCodeReason(1001, 'bye')]).toEqual([0x03, 0xe9, 0x62, 0x79, 0x65]);
    expect(decodeCodeReason(bytes(0x03, 0xe9, 0x62, 0x79, 0x65))).toEqual({ code: 1001, reason: 'bye' });
    expect(decodeReset(encodeReset('ERR_FLOW_CONTROL', 'x'))).toEqual({ code: 'ERR_FLOW_CONTROL', reason: 'x' });
  });

  it('maps an unknown error number to ERR_PROTOCOL (peers may be newer)', () => {
    expect(decodeReset(bytes(0xff, 0xff))).toEqual({ code: 'ERR_PROTOCOL', reason: '' });
  });

  it('rejects a payload shorter than the code', () => {
    rejects(() => decodeCodeReason(bytes(1)), 'ERR_INVALID_PAYLOAD', 'code + reason payload shorter than 2 bytes');
  });

  it('rejects a reason that is not UTF-8', () => {
    rejects(() => decodeCodeReason(bytes(0, 1, 0xc3, 0x28)), 'ERR_INVALID_PAYLOAD', 'reason is not valid UTF-8');
    rejects(() => decodeCodeReason(bytes(0, 1, 0xe2, 0x82)), 'ERR_INVALID_PAYLOAD', 'reason is not valid UTF-8');
  });

  it('rejects a reason longer than MAX_REASON_BYTES', () => {
    rejects(() => decodeCodeReason(new Uint8Array(2 + MAX_REASON_BYTES + 1).fill(0x61)), 'ERR_INVALID_PAYLOAD', `reason longer than ${MAX_REASON_BYTES} bytes`);
    expect(decodeCodeReason(new Uint8Array(2 + MAX_REASON_BYTES).fill(0x61)).reason).toHaveLength(MAX_REASON_BYTES);
  });

  it('truncates a long reason on a character boundary, so the peer can decode it', () => {
    // 'a' + 'é'…: byte 256 is the first half of an "é"; '€' is 3 bytes, so 256 splits one too.
    for (const r of ['é'.repeat(200), 'a' + 'é'.repeat(200), '€'.repeat(100), 'a' + '😀'.repeat(100)]) {
      const p = encodeCodeReason(1000, r);
      expect(p.length).toBeLessThanOrEqual(2 + MAX_REASON_BYTES);
      const back = decodeCodeReason(p).reason;
      expect(r.startsWith(back)).toBe(true);
      expect(Buffer.byteLength(back)).toBeGreaterThan(MAX_REASON_BYTES - 4);
    }
  });
});

describe('request head', () => {
  const head = {
    method: 'POST',
    target: '/a?b=c',
    headers: [
      ['host', 'x'],
      ['set-cookie', 'a'],
      ['set-cookie', 'b'],
    ] as HeaderList,
  };

  it('lays out method (u8 length), target (u16 length), count (u16), then name (u8) / value (u16) pairs', () => {
    expect(encodeRequestHead(head)).toEqual(
      rawRequestHead('POST', '/a?b=c', [
        ['host', 'x'],
        ['set-cookie', 'a'],
        ['set-cookie', 'b'],
      ]),
    );
    expect(decodeRequestHead(rawRequestHead('POST', '/a?b=c', head.headers))).toEqual(head);
  });

  it('lower-cases header names on encode and keeps repeated names and order', () => {
    const back = decodeRequestHead(
      encodeRequestHead({
        method: 'GET',
        target: '/',
        headers: [
          ['X-A', '1'],
          ['x-a', '2'],
        ],
      }),
    );
    expect(back.headers).toEqual([
      ['x-a', '1'],
      ['x-a', '2'],
    ]);
  });

  it(`rejects more than MAX_HEADER_COUNT (${MAX_HEADER_COUNT}) headers`, () => {
    const many: HeaderList = Array.from({ length: MAX_HEADER_COUNT + 1 }, () => ['a', '']);
    rejects(() => decodeRequestHead(rawRequestHead('GET', '/', many)), 'ERR_TOO_MANY_HEADERS', `${MAX_HEADER_COUNT + 1} headers > ${MAX_HEADER_COUNT}`);
    rejects(() => encodeRequestHead({ method: 'GET', target: '/', headers: many }), 'ERR_TOO_MANY_HEADERS');
    expect(decodeRequestHead(rawRequestHead('GET', '/', many.slice(1))).headers).toHaveLength(MAX_HEADER_COUNT);
  });

  it('rejects a count that promises more headers than the payload holds', () => {
    rejects(() => decodeRequestHead(rawRequestHead('GET', '/', [['a', 'b']], 2)), 'ERR_INVALID_HEAD', 'head payload truncated');
  });

  it(`rejects a target above MAX_TARGET_BYTES (${MAX_TARGET_BYTES}) and a head above one frame`, () => {
    const long = '/' + 'a'.repeat(MAX_TARGET_BYTES);
    rejects(() => decodeRequestHead(rawRequestHead('GET', long, [])), 'ERR_HEADER_TOO_LARGE', `request target of ${MAX_TARGET_BYTES + 1} bytes`);
    rejects(() => encodeRequestHead({ method: 'GET', target: long, headers: [] }), 'ERR_HEADER_TOO_LARGE');
    rejects(
      () => encodeRequestHead({ method: 'GET', target: '/', headers: [['cookie', 'c'.repeat(17000)]] }),
      'ERR_HEADER_TOO_LARGE',
      /head of \d+ bytes > 16376/,
    );
    rejects(
      () =>
        encodeRequestHead({
          method: 'GET',
          target: '/',
          headers: [
            ['a', 'x'.repeat(9000)],
            ['b', 'y'.repeat(9000)],
          ],
        }),
      'ERR_HEADER_TOO_LARGE',
    );
  });

  it('rejects invalid header names: upper case, empty, separators, non-token bytes', () => {
    for (const name of ['Host', '', 'a b', 'a:b', 'a\x00', 'é']) {
      rejects(() => decodeRequestHead(rawRequestHead('GET', '/', [[name, 'v']])), 'ERR_INVALID_HEADER', 'invalid header name (must be a lower-case token)');
    }
    for (const name of ['', 'a b', 'a:b', 'x'.repeat(256)])
      rejects(() => encodeRequestHead({ method: 'GET', target: '/', headers: [[name, 'v']] }), 'ERR_INVALID_HEADER');
  });

  it('rejects CR, LF, NUL and other controls in a value (request smuggling), both ways', () => {
    for (const value of ['a\r\nx-injected: 1', 'a\nb', 'a\rb', 'a\x00b', 'a\x7fb', 'a\x1bb']) {
      rejects(() => decodeRequestHead(rawRequestHead('GET', '/', [['x', value]])), 'ERR_INVALID_HEADER', 'header "x" has a control character');
      rejects(() => encodeRequestHead({ method: 'GET', target: '/', headers: [['x', value]] }), 'ERR_INVALID_HEADER', 'header "x" has a control character');
    }
    expect(decodeRequestHead(rawRequestHead('GET', '/', [['x', 'tab\there, latin1 \xe9']])).headers).toEqual([['x', 'tab\there, latin1 \xe9']]);
  });

  it('rejects text outside latin1 on encode (HTTP fields are bytes)', () => {
    rejects(() => encodeRequestHead({ method: 'GET', target: '/', headers: [['x', '€']] }), 'ERR_INVALID_HEADER', 'header text outside latin1');
  });

  it('rejects a target that is not origin-form, both ways', () => {
    for (const target of ['*', 'http://evil.example/', 'a/b', '/a b', '/a\tb', '/\x7f', '']) {
      rejects(() => decodeRequestHead(rawRequestHead('GET', target, [])), 'ERR_INVALID_HEAD', 'request target must be origin-form');
      rejects(() => encodeRequestHead({ method: 'GET', target, headers: [] }), 'ERR_INVALID_HEAD', 'request target must be origin-form');
    }
  });

  it('rejects an invalid method: empty, too long, not a token', () => {
    for (const method of ['', 'G T', 'GET\r\n', 'M'.repeat(33), '(GET)']) {
      rejects(() => decodeRequestHead(rawRequestHead(method, '/', [])), 'ERR_INVALID_HEAD', 'invalid method');
      rejects(() => encodeRequestHead({ method, target: '/', headers: [] }), 'ERR_INVALID_HEAD');
    }
    expect(decodeRequestHead(rawRequestHead('M'.repeat(32), '/', [])).method).toBe('M'.repeat(32));
  });

  it('rejects a truncated head at every cut', () => {
    const full = encodeRequestHead(head);
    for (let n = 0; n < full.length; n++) rejects(() => decodeRequestHead(full.subarray(0, n)), 'ERR_INVALID_HEAD');
  });

  it('rejects trailing bytes after the head', () => {
    rejects(() => decodeRequestHead(new Uint8Array([...encodeRequestHead(head), 0])), 'ERR_INVALID_HEAD', '1 trailing bytes after head');
  });
});

describe('response head', () => {
  it('is a u16 status then the header list', () => {
    expect([...encodeResponseHead({ status: 404, headers: [['a', 'b']] })]).toEqual([0x01, 0x94, 0, 1, 1, 0x61, 0, 1, 0x62]);
    expect(decodeResponseHead(bytes(0x01, 0x94, 0, 1, 1, 0x61, 0, 1, 0x62))).toEqual({ status: 404, headers: [['a', 'b']] });
  });

  it('rejects a status outside 100..999, both ways', () => {
    rejects(() => decodeResponseHead(bytes(0, 99, 0, 0)), 'ERR_INVALID_HEAD', 'invalid status 99');
    rejects(() => decodeResponseHead(bytes(0x03, 0xe8, 0, 0)), 'ERR_INVALID_HEAD', 'invalid status 1000');
    for (const status of [99, 1000, 200.5, NaN]) rejects(() => encodeResponseHead({ status, headers: [] }), 'ERR_INVALID_HEAD', `invalid status ${status}`);
  });

  it('rejects truncation and trailing bytes', () => {
    rejects(() => decodeResponseHead(bytes(0, 200)), 'ERR_INVALID_HEAD', 'head payload truncated');
    rejects(() => decodeResponseHead(bytes(0, 200, 0, 0, 9)), 'ERR_INVALID_HEAD', '1 trailing bytes after head');
  });
});

describe('latin1 text of header fields', () => {
  it('maps every byte value to one code unit and back, across the decoder chunk size', () => {
    for (const length of [0, 1, 256, 4096, 4097, 10_000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 256);
      const text = latin1Decode(bytes);
      expect(text.length).toBe(length);
      for (let i = 0; i < length; i += 997) expect(text.charCodeAt(i)).toBe(bytes[i]);
      expect(latin1Encode(text)).toEqual(bytes);
    }
  });
});
