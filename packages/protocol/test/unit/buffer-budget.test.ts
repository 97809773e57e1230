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

  it('refuses a holder whose reader made progress after one that did not, however long it has held', () => {
    const budget = createBufferBudget(100);
    const evicted: string[] = [];
    // `trickling` started holding first and never lets go back to 0, but its reader keeps taking bytes.
    const trickling = budget.hold(() => evicted.push('trickling'));
    const paused = budget.hold(() => evicted.push('paused'));
    trickling.set(40);
    paused.set(40);
    trickling.progressed();
    const newcomer = budget.hold(() => evicted.push('newcomer'));
    newcomer.set(30);
    expect(evicted).toEqual(['paused']);
    expect(trickling.released).toBe(false);
    expect(budget.total()).toBe(70);
    // Progress moves it behind the newcomer too: the newcomer goes next.
    trickling.progressed();
    newcomer.set(70);
    expect(evicted).toEqual(['paused', 'newcomer']);
    expect(budget.total()).toBe(40);
  });

  it('gives a holder that holds nothing no place in the line for its progress', () => {
    const budget = createBufferBudget(100);
    const evicted: string[] = [];
    const idle = budget.hold(() => evicted.push('idle'));
    const other = budget.hold(() => evicted.push('other'));
    idle.progressed();
    other.set(50);
    idle.set(60);
    // `idle` started holding only now, after `other`: its earlier progress did not put it in the line.
    expect(evicted).toEqual(['other']);
    expect(budget.total()).toBe(60);
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
