/** A tunnel's header rules: read with a reason for each refusal, applied as remove, set, add. */
import { applyHeaderEdits, headerEditsInput, MAX_HEADER_EDITS, type HeaderEdits } from '../../src/forward/header-rules';

function edits(raw: unknown, direction: 'request' | 'response' = 'request'): HeaderEdits {
  return headerEditsInput(direction).parse(raw);
}

/** The first refusal, as the config file names it (`set.Host: …`); undefined when the edits are taken. */
function problem(raw: unknown, direction: 'request' | 'response' = 'request'): string | undefined {
  const read = headerEditsInput(direction).safeParse(raw);
  const issue = read.error?.issues[0];
  return issue && `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
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

describe('headerEditsInput', () => {
  it("refuses the fields the tunnel owns, each with why, and Wingman's own", () => {
    expect(problem({ set: { Host: 'x' } })).toBe('set.Host: host cannot be changed by a rule: the tunnel sets it: use hostHeader');
    expect(problem({ remove: ['Transfer-Encoding'] })).toMatch(/^remove: transfer-encoding cannot be changed by a rule/);
    expect(problem({ add: { Connection: 'close' } })).toMatch(/^add.Connection: connection cannot/);
    expect(problem({ set: { 'X-Wingman-Transport': 'p2p' } }, 'response')).toMatch(/it is Wingman's own/);
    // Host is the request's business only; a response may carry any such name.
    expect(problem({ set: { Host: 'x' } }, 'response')).toBeUndefined();
  });

  it('refuses names that are not tokens and values that could inject a field', () => {
    expect(problem({ set: { 'a b': 'x' } })).toBe('set.a b: "a b" is not a header name');
    expect(problem({ remove: [''] })).toBe('remove: "" is not a header name');
    for (const v of ['a\r\nb: c', 'a\nb', 'a\u0000', ' lead', 'trail ', 'x'.repeat(8193)])
      expect(problem({ add: { 'X-A': v } })).toMatch(/^add.X-A: a header value/);
    expect(edits({ set: { 'X-Empty': '' } })).toEqual({ remove: [], set: [['x-empty', '']], add: [] });
  });

  it(`takes at most ${MAX_HEADER_EDITS} edits in one direction`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HEADER_EDITS + 1 }, (_, i) => [`x-${i}`, 'v']));
    expect(problem({ add: many })).toBe(`at most ${MAX_HEADER_EDITS} edits`);
  });
});
