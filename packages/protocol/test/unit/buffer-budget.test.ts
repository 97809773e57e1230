import { createBufferBudget } from '../../src/buffer-budget';

describe('buffer budget', () => {
  it('evicts the holders that have held bytes the longest until the total fits, and only them', () => {
    const budget = createBufferBudget(100);
    const evicted: string[] = [];
    const stalled = budget.hold(() => evicted.push('stalled'));
    const moving = budget.hold(() => evicted.push('moving'));
    const other = budget.hold(() => evicted.push('other'));
    stalled.set(10);
    moving.set(60);
    other.set(20);
    // `moving` lets go (its message completed) and starts holding again: it is now the newest.
    moving.set(0);
    moving.set(60);
    expect(budget.total()).toBe(90);
    expect(evicted).toEqual([]);
    other.set(40);
    expect(evicted).toEqual(['stalled']);
    expect(stalled.released).toBe(true);
    expect(budget.total()).toBe(100);
    moving.set(70);
    expect(evicted).toEqual(['stalled', 'other']);
    expect(budget.total()).toBe(70);
    // An evicted holder's later reports count for nothing.
    stalled.set(90);
    expect(budget.total()).toBe(70);
  });

  it('gives back what a released holder held, once', () => {
    const budget = createBufferBudget(100);
    const a = budget.hold(() => undefined);
    a.set(40);
    a.release();
    a.release();
    expect(budget.total()).toBe(0);
  });
});
