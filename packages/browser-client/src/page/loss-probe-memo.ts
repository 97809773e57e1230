/**
 * What this tab's last loss probe found (docs/PROTOCOL.md §Loss probe),
 * kept in sessionStorage, which survives reloads and full navigations.
 *
 * Whether a new channel runs the probe: each probe costs 128 KB each way,
 * and every reload opens a new channel, so a tab whose last probe found the
 * path clean skips it for LOSS_PROBE_REUSE_MS. A lossy path is probed again
 * on each channel. A tab that goes from clean to lossy within the time is
 * still caught by lone requests (the stall verdict's own source).
 *
 * Whether the path is lossy before the new channel's probe has said so: a
 * reload's module wave leaves while its channel is still coming up, and the
 * Service Worker may have cleared its own verdict after lone requests
 * without a stall. A tab whose last probe found the path lossy within
 * LOSS_PROBE_REUSE_MS tells the Service Worker at once; the new probe then
 * confirms it or clears it.
 *
 * What a channel that skips its probe shows: the figures of the clean
 * measurement it relies on, with when it was made (rememberedLoss), so the
 * diagnostics page still says how the path fared, and that an earlier
 * channel of the tab measured it.
 */
import { LOSS_PROBE_COUNT, type LossProbeResult } from '@wingman/protocol';
import { LOSS_PROBE_CLEAN_STORAGE_KEY, LOSS_PROBE_FIGURES_STORAGE_KEY, LOSS_PROBE_LOSSY_STORAGE_KEY } from '../shared/constants';

/** How long a measurement stands for the tab, ms. */
export const LOSS_PROBE_REUSE_MS = 10 * 60_000;

/** The storage the memo lives in (sessionStorage), or nothing where storage is disabled. */
export type MemoStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

function sessionStore(): MemoStore | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

/** Whether a measurement made at `at` still stands at `now` (a clock that went back says no). */
function standsAt(at: unknown, now: number): at is number {
  return typeof at === 'number' && Number.isFinite(at) && at <= now && now - at < LOSS_PROBE_REUSE_MS;
}

/** Whether the time stored under `key` is at most LOSS_PROBE_REUSE_MS old. */
function recent(key: string, now: number, store: MemoStore | undefined): boolean {
  try {
    return standsAt(Number(store?.getItem(key) ?? NaN), now);
  } catch {
    return false;
  }
}

/** Whether this tab should probe its new channel. */
export function lossProbeDue(now = Date.now(), store = sessionStore()): boolean {
  return !recent(LOSS_PROBE_CLEAN_STORAGE_KEY, now, store);
}

/** Whether this tab's last probe, at most LOSS_PROBE_REUSE_MS ago, found the path lossy. */
export function lossyRemembered(now = Date.now(), store = sessionStore()): boolean {
  return recent(LOSS_PROBE_LOSSY_STORAGE_KEY, now, store);
}

/**
 * Records a measurement's outcome, or its verdict as soon as the losses made
 * it (`onLossy`): lossy stands for a while and makes the next channel probe
 * again; clean (every probe sent, or none answered: no agent to ask) stands
 * for a while; a measurement cut short by the channel closing records nothing.
 */
export function lossProbeMeasured(r: LossProbeResult, now = Date.now(), store = sessionStore()): void {
  try {
    if (r.lossy) {
      store?.removeItem(LOSS_PROBE_CLEAN_STORAGE_KEY);
      store?.removeItem(LOSS_PROBE_FIGURES_STORAGE_KEY);
      store?.setItem(LOSS_PROBE_LOSSY_STORAGE_KEY, String(now));
    } else if (r.sent >= LOSS_PROBE_COUNT || r.echoed === 0) {
      store?.removeItem(LOSS_PROBE_LOSSY_STORAGE_KEY);
      store?.setItem(LOSS_PROBE_CLEAN_STORAGE_KEY, String(now));
      // Only a measurement the agent answered has figures worth showing again.
      if (r.echoed > 0) store?.setItem(LOSS_PROBE_FIGURES_STORAGE_KEY, JSON.stringify({ sent: r.sent, lost: r.lost, at: now }));
      else store?.removeItem(LOSS_PROBE_FIGURES_STORAGE_KEY);
    }
  } catch {
    /* storage full or disabled: the next channel probes again */
  }
}

/**
 * The server runs no loss probe (P2P_LOSS_PROBE=false, the hello's
 * p2p.lossProbe): what the tab remembered of the path is dropped, so its
 * next shell does not start out announcing a lossy path it will never
 * measure again.
 */
export function lossProbeTurnedOff(store = sessionStore()): void {
  try {
    store?.removeItem(LOSS_PROBE_LOSSY_STORAGE_KEY);
  } catch {
    /* storage disabled: nothing was remembered */
  }
}

/** A clean measurement's figures, and when it was made (ms since the epoch). */
export interface RememberedLoss {
  sent: number;
  lost: number;
  at: number;
}

/**
 * The figures of the clean measurement a channel that skips its probe
 * relies on (lossProbeDue false), or undefined: none kept, older than
 * LOSS_PROBE_REUSE_MS, no longer the tab's verdict, or not figures a probe
 * could have made (what sessionStorage holds is read as untrusted).
 */
export function rememberedLoss(now = Date.now(), store = sessionStore()): RememberedLoss | undefined {
  if (lossProbeDue(now, store)) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(store?.getItem(LOSS_PROBE_FIGURES_STORAGE_KEY) ?? 'null');
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { sent, lost, at } = v as Record<string, unknown>;
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= LOSS_PROBE_COUNT;
  if (!count(sent) || !count(lost) || lost > sent || !standsAt(at, now)) return undefined;
  return { sent, lost, at };
}
