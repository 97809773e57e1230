/** A tunnel's header rules: read with a reason for each refusal, applied as remove, set, add. */
import { applyHeaderEdits, MAX_HEADER_EDITS, readHeaderEdits, type HeaderEdits } from '../../src/forward/header-rules';

function edits(raw: Parameters<typeof readHeaderEdits>[0], direction: 'request' | 'response' = 'request'): HeaderEdits {
  const e = readHeaderEdits(raw, direction);
  if ('problem' in e) throw new Error(e.problem);
  return e;
}

describe('applyHeaderEdits', () => {
  it('removes, then sets (replacing every field of the name), then adds; names in lower case', () => {
    const rules = edits({ remove: ['X-Drop'], set: { 'X-Team': 'blue' }, add: { Via: 'office' } });
    expect(
      applyHeaderEdits(
        [
          ['x-drop', '1'],
          ['x-team', 'red'],
          ['x-team', 'green'],
          ['via', 'proxy'],
          ['accept', '*/*'],
        ],
        rules,
      ),
    ).toEqual([
      ['via', 'proxy'],
      ['accept', '*/*'],
      ['x-team', 'blue'],
      ['via', 'office'],
    ]);
  });

  it('leaves the list as it is without rules', () => {
    const list: Array<[string, string]> = [['a', '1']];
    expect(applyHeaderEdits(list, undefined)).toBe(list);
  });
});

describe('readHeaderEdits', () => {
  const problem = (raw: Parameters<typeof readHeaderEdits>[0], direction: 'request' | 'response' = 'request') =>
    (readHeaderEdits(raw, direction) as { problem: string }).problem;

  it("refuses the fields the tunnel owns, each with why, and Wingman's own", () => {
    expect(problem({ set: { Host: 'x' } })).toBe('set.Host: host cannot be changed by a rule: the tunnel sets it: use hostHeader');
    expect(problem({ remove: ['Transfer-Encoding'] })).toMatch(/^remove: transfer-encoding cannot be changed by a rule/);
    expect(problem({ add: { Connection: 'close' } })).toMatch(/^add.Connection: connection cannot/);
    expect(problem({ set: { 'X-Wingman-Transport': 'p2p' } }, 'response')).toMatch(/it is Wingman's own/);
    // Host is the request's business only; a response may carry any such name.
    expect(readHeaderEdits({ set: { Host: 'x' } }, 'response')).not.toHaveProperty('problem');
  });

  it('refuses names that are not tokens and values that could inject a field', () => {
    expect(problem({ set: { 'a b': 'x' } })).toBe('set.a b: "a b" is not a header name');
    expect(problem({ remove: [''] })).toBe('remove: "" is not a header name');
    for (const v of ['a\r\nb: c', 'a\nb', 'a\u0000', ' lead', 'trail ', 'x'.repeat(8193)])
      expect(problem({ add: { 'X-A': v } })).toMatch(/^add.X-A: a header value/);
    expect(readHeaderEdits({ set: { 'X-Empty': '' } }, 'request')).toEqual({ remove: [], set: [['x-empty', '']], add: [] });
  });

  it(`takes at most ${MAX_HEADER_EDITS} edits in one direction`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HEADER_EDITS + 1 }, (_, i) => [`x-${i}`, 'v']));
    expect(problem({ add: many })).toBe(`at most ${MAX_HEADER_EDITS} edits`);
  });
});
