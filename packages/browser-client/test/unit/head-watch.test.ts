/** When a static GET's late head gives up on a lossy path's channel, on jest's virtual clock. */
import { HEAD_MOVE_AFTER_MS, watchHead } from '../../src/sw/head-watch';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('watchHead', () => {
  it('aborts at the first check that finds the path lossy, not before', () => {
    let lossy = false;
    const watch = watchHead('GET', 'script', () => lossy)!;
    jest.advanceTimersByTime(HEAD_MOVE_AFTER_MS * 3);
    expect(watch.signal.aborted).toBe(false);
    lossy = true;
    jest.advanceTimersByTime(HEAD_MOVE_AFTER_MS - 1);
    expect(watch.signal.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect(watch.signal.aborted).toBe(true);
  });

  it('checks nothing once stopped (the head came)', () => {
    const stalls = jest.fn(() => true);
    const watch = watchHead('HEAD', 'image', stalls)!;
    watch.stop();
    jest.advanceTimersByTime(HEAD_MOVE_AFTER_MS * 5);
    expect(stalls).not.toHaveBeenCalled();
    expect(watch.signal.aborted).toBe(false);
  });

  it.each([
    ['GET', ''],
    ['GET', 'document'],
    ['GET', 'iframe'],
    ['POST', 'script'],
  ])('never moves a %s of destination "%s" (a fetch() or a navigation could be a slow endpoint)', (method, destination) => {
    expect(watchHead(method, destination, () => true)).toBeUndefined();
  });
});
