import { createSignInDeadlines, MAX_SIGN_IN_DEADLINES } from '../../src/p2p/sign-in-deadlines';

describe('sign-in deadlines', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends each viewer once, at the latest time it was told', () => {
    const ended: string[] = [];
    const d = createSignInDeadlines((id) => ended.push(id));
    d.set('a', 1_000);
    d.set('b', 2_000);
    d.set('a', 3_000); // signed in again
    jest.advanceTimersByTime(2_000);
    expect(ended).toEqual(['b']);
    jest.advanceTimersByTime(1_000);
    expect(ended).toEqual(['b', 'a']);
    jest.advanceTimersByTime(60_000);
    expect(ended).toEqual(['b', 'a']);
  });

  it('keeps at most MAX_SIGN_IN_DEADLINES viewers, forgetting the oldest announced', () => {
    const ended = new Set<string>();
    const d = createSignInDeadlines((id) => ended.add(id));
    for (let i = 0; i <= MAX_SIGN_IN_DEADLINES; i++) d.set(`v${i}`, 1_000);
    jest.advanceTimersByTime(1_000);
    expect(ended.size).toBe(MAX_SIGN_IN_DEADLINES);
    expect(ended.has('v0')).toBe(false);
  });

  it('ends nothing after close', () => {
    const ended: string[] = [];
    const d = createSignInDeadlines((id) => ended.push(id));
    d.set('a', 1_000);
    d.close();
    jest.advanceTimersByTime(5_000);
    expect(ended).toEqual([]);
  });
});
