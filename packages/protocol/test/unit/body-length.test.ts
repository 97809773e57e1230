import { BodyLengthGuard, declaredBodyLength } from '@wingman/protocol';

const bytes = (n: number) => new Uint8Array(n).fill(0x61);

describe('declaredBodyLength', () => {
  it('reads one Content-Length, and none as undefined', () => {
    expect(declaredBodyLength([['content-length', '42']])).toBe(42);
    expect(declaredBodyLength([['content-type', 'text/plain']])).toBeUndefined();
  });

  it('accepts a list of identical values as one (RFC 9110 §8.6)', () => {
    expect(
      declaredBodyLength([
        ['content-length', '42, 42'],
        ['content-length', '42'],
      ]),
    ).toBe(42);
  });

  it.each([['5, 6'], ['-1'], ['1e3'], [''], ['0x10'], ['99999999999999999']])('refuses the unusable value %j', (value) => {
    expect(declaredBodyLength([['content-length', value]])).toBeNull();
  });

  it('refuses two fields that disagree', () => {
    expect(
      declaredBodyLength([
        ['content-length', '5'],
        ['content-length', '6'],
      ]),
    ).toBeNull();
  });
});

describe('BodyLengthGuard', () => {
  it('cuts the chunk that crosses the declared length and reports the excess', () => {
    const g = new BodyLengthGuard(5);
    expect(g.take(bytes(3))).toEqual({ accepted: bytes(3), excess: false });
    const v = g.take(bytes(50));
    expect(v.accepted.length).toBe(2);
    expect(v.excess).toBe(true);
    expect(g.take(bytes(1))).toEqual({ accepted: bytes(0), excess: true });
    expect(g.short).toBe(false);
  });

  it('reports a body that ended short of its declared length', () => {
    const g = new BodyLengthGuard(50);
    g.take(bytes(5));
    expect(g.short).toBe(true);
  });

  it('passes everything through when no length was declared', () => {
    const g = new BodyLengthGuard(undefined);
    expect(g.take(bytes(1000)).excess).toBe(false);
    expect(g.short).toBe(false);
    expect(g.bytes).toBe(1000);
  });
});
