/**
 * A process's budget of bytes held for peers it does not control (unread uploads and downloads, unfinished
 * messages). Over it, the holders that held longest without progress (their reader taking some) are
 * evicted: a slow but steady reader keeps going to the back of the line, a stalled one (an attacker's)
 * stays at the front.
 */

export type BufferBudget = ReturnType<typeof createBufferBudget>;

/** What the budget keeps of its holds. */
interface Ledger {
  readonly limit: number;
  held: number;
  /** Holds holding bytes, in eviction order: since they started holding or last made progress. */
  readonly holding: Set<BufferHold>;
}

export function createBufferBudget(limit: number) {
  const ledger: Ledger = { limit, held: 0, holding: new Set() };
  return {
    limit,
    total: (): number => ledger.held,
    /** `onEvict` is called once, when the budget evicts it. */
    hold: (onEvict: () => void): BufferHold => new BufferHold(ledger, onEvict),
  };
}

export class BufferHold {
  private bytes = 0;
  private ended = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly onEvict: () => void,
  ) {}

  /** May evict this holder, or others, synchronously. */
  set(bytes: number): void {
    if (this.ended) return;
    const ledger = this.ledger;
    if (bytes === 0) ledger.holding.delete(this);
    else if (this.bytes === 0) ledger.holding.add(this);
    ledger.held += bytes - this.bytes;
    this.bytes = bytes;
    if (ledger.held > ledger.limit) enforce(ledger);
  }

  /** Its reader took some (a write flushed, credit spent): to the back of the eviction line. */
  progressed(): void {
    const holding = this.ledger.holding;
    if (!holding.delete(this)) return;
    holding.add(this);
  }

  /** Idempotent. */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    this.ledger.holding.delete(this);
    this.ledger.held -= this.bytes;
    this.bytes = 0;
  }

  /** Evicted or released. */
  get released(): boolean {
    return this.ended;
  }

  /** @internal */
  evict(): void {
    this.release();
    this.onEvict();
  }
}

function enforce(ledger: Ledger): void {
  while (ledger.held > ledger.limit) {
    const oldest = ledger.holding.values().next().value;
    if (!oldest) return;
    oldest.evict();
  }
}
