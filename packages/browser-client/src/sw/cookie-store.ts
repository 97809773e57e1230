/**
 * The part of the Cookie Store API the Service Worker uses (feature-detected:
 * absent in some browsers), with a bound on every call, and the console
 * warning for a cookie write that was lost.
 */
import { withTimeout } from './idb';

export interface CookieStoreLike {
  getAll(options?: { url?: string }): Promise<Array<{ name: string; value: string; path?: string; domain?: string | null; expires?: number | null }>>;
  set(init: { name: string; value: string; path?: string; expires?: number | null; sameSite?: 'strict' | 'lax' | 'none' }): Promise<void>;
  delete(init: { name: string; path?: string }): Promise<void>;
}

/** Bound on one Cookie Store call, ms (they take under 5 ms): a stuck one must not hold every request. */
export const COOKIE_STORE_TIMEOUT_MS = 1_000;

export const bounded = <T>(p: Promise<T>): Promise<T> => withTimeout(p, 'Cookie Store call', COOKIE_STORE_TIMEOUT_MS);

/** Why a cookie write was lost, for the console (the jar goes on without it). */
export function lost(what: string, err: unknown): void {
  console.warn(`wingman: WARN_SW_COOKIE_LOST: ${what} (${err instanceof Error ? err.message : String(err)})`);
}
