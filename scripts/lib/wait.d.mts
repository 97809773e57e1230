/** Types for wait.mjs (bounded waits shared by tests and scripts). */
export declare const DEFAULT_WAIT_TIMEOUT_MS: number;
export declare const DEFAULT_POLL_INTERVAL_MS: number;

export declare class WaitTimeoutError extends Error {
  readonly code: 'ERR_WAIT_TIMEOUT';
  readonly what: string;
  readonly observed: unknown;
  constructor(what: string, timeoutMs: number, info?: { observed?: unknown; hasObserved?: boolean; detail?: string });
}

export declare function describeObserved(value: unknown): string;

export interface WaitOptions {
  /** Bound on the wait (default DEFAULT_WAIT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** What is awaited, for the error message ("the agent's ready event"). */
  what?: string;
}

/** Anything with on/off (Node) or addEventListener/removeEventListener (DOM, ws). */
export type EventSource =
  | { on(event: string, fn: (...args: any[]) => void): unknown; off(event: string, fn: (...args: any[]) => void): unknown }
  | { addEventListener(event: string, fn: (...args: any[]) => void): unknown; removeEventListener(event: string, fn: (...args: any[]) => void): unknown };

export declare function withTimeout<T>(promise: Promise<T>, options: WaitOptions & { what: string; observe?: () => unknown }): Promise<T>;

export declare function waitForEvent<T = any>(
  emitter: EventSource,
  name: string,
  options?: WaitOptions & { filter?: (...args: any[]) => boolean; failOn?: string[] },
): Promise<T>;

export declare function until<T>(
  check: () => T | Promise<T>,
  options: WaitOptions & { what: string; intervalMs?: number; observe?: () => unknown },
): Promise<NonNullable<T>>;

export declare function expectNoEventWithin(
  emitter: EventSource,
  name: string,
  options: { windowMs: number; what?: string; filter?: (...args: any[]) => boolean },
): Promise<void>;

export declare function expectUnchangedWithin<T>(read: () => T, options: { windowMs: number; what: string; intervalMs?: number }): Promise<T>;

export declare function delay(ms: number): Promise<void>;

export declare function waitForEntry<T>(
  list: T[],
  emitter: EventSource,
  name: string,
  options?: WaitOptions & { filter?: (entry: T) => boolean; failOn?: string[] },
): Promise<T>;
