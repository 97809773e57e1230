/** The one wait with a deadline of the shell and the Service Worker (src/shared/settle-within.ts). */
import { settleWithin } from '../../src/shared/settle-within';

beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }));
afterEach(() => jest.useRealTimers());

describe('settleWithin', () => {
  it('takes the first answer, then cleans up once and ignores later ones', async () => {
    const cleanup = jest.fn();
    let settle!: (v: string) => void;
    const p = settleWithin(1_000, 'late', (s) => {
      settle = s;
      return cleanup;
    });
    settle('first');
    settle('second');
    await expect(p).resolves.toBe('first');
    expect(cleanup).toHaveBeenCalledTimes(1);
    jest.advanceTimersByTime(1_000);
    expect(cleanup).toHaveBeenCalledTimes(1);
  });

  it('answers the fallback at the deadline, and cleans up', async () => {
    const cleanup = jest.fn();
    const p = settleWithin(1_000, 'late', () => cleanup);
    jest.advanceTimersByTime(999);
    expect(cleanup).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    await expect(p).resolves.toBe('late');
    expect(cleanup).toHaveBeenCalledTimes(1);
  });

  it('cleans up an answer given while it started listening', async () => {
    const cleanup = jest.fn();
    const p = settleWithin(1_000, 'late', (settle) => {
      settle('at once');
      return cleanup;
    });
    await expect(p).resolves.toBe('at once');
    expect(cleanup).toHaveBeenCalledTimes(1);
  });
});
