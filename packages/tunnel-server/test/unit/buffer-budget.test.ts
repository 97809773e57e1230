import { createBufferBudget } from '../../src/relay/buffer-budget';

describe('buffer budget', () => {
  it('evicts the largest holders until the total fits, and only them', () => {
    const budget = createBufferBudget(100);
    const evicted: string[] = [];
    const small = budget.hold(() => evicted.push('small'));
    const large = budget.hold(() => evicted.push('large'));
    const medium = budget.hold(() => evicted.push('medium'));
    small.set(10);
    large.set(60);
    medium.set(30);
    expect(budget.total()).toBe(100);
    expect(evicted).toEqual([]);
    medium.set(45);
    expect(evicted).toEqual(['large']);
    expect(large.released).toBe(true);
    expect(budget.total()).toBe(55);
    // An evicted holder's later reports count for nothing.
    large.set(90);
    expect(budget.total()).toBe(55);
  });

  it('gives back what a released holder held, once', () => {
    const budget = createBufferBudget(100);
    const a = budget.hold(() => undefined);
    a.set(40);
    a.release();
    a.release();
    expect(budget.total()).toBe(0);
  });

  it('grants reservations only while they fit, and counts them against holders', () => {
    const budget = createBufferBudget(100);
    expect(budget.reserve(70)).toBe(true);
    expect(budget.reserve(40)).toBe(false);
    const evicted: number[] = [];
    const h = budget.hold(() => evicted.push(1));
    h.set(50);
    expect(evicted).toEqual([1]);
    budget.unreserve(70);
    expect(budget.total()).toBe(0);
  });
});
