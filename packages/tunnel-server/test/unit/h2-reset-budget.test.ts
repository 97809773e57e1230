/**
 * The mirror of nghttp2's stream-reset allowance: a bucket of 1000 that
 * refills 33 per whole second, one token per stream the client opens.
 */
import { createResetBudget, NGHTTP2_STREAM_RESET_BURST, NGHTTP2_STREAM_RESET_RATE } from '../../src/http/h2-reset-budget';

describe('createResetBudget', () => {
  it('starts full and takes one token per stream', () => {
    const budget = createResetBudget();
    expect(budget.left(0)).toBe(NGHTTP2_STREAM_RESET_BURST);
    for (let i = 0; i < 10; i++) budget.take(100);
    expect(budget.left(100)).toBe(NGHTTP2_STREAM_RESET_BURST - 10);
  });

  it('refills by whole seconds only, at the library rate, up to the burst', () => {
    const budget = createResetBudget();
    for (let i = 0; i < 600; i++) budget.take(1_000);
    expect(budget.left(1_999)).toBe(400);
    expect(budget.left(2_000)).toBe(400 + NGHTTP2_STREAM_RESET_RATE);
    expect(budget.left(5_500)).toBe(400 + 4 * NGHTTP2_STREAM_RESET_RATE);
    expect(budget.left(60_000)).toBe(NGHTTP2_STREAM_RESET_BURST);
  });

  it('never goes below zero', () => {
    const budget = createResetBudget(3, 1);
    for (let i = 0; i < 10; i++) budget.take(0);
    expect(budget.left(0)).toBe(0);
    expect(budget.left(1_000)).toBe(1);
  });
});
