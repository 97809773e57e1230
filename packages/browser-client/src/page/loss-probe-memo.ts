/**
 * Whether a new channel runs the loss probe (docs/PROTOCOL.md §Loss probe).
 * Each probe costs 128 KB each way, and every reload opens a new channel: a
 * tab whose last probe found the path clean skips it for LOSS_PROBE_REUSE_MS
 * (sessionStorage survives reloads and full navigations). A lossy path is
 * probed again on each channel: the verdict is what sends a reload's wave
 * around the channel, and the Service Worker may have cleared its own after
 * lone requests without a stall. A tab that goes from clean to lossy within
 * the time is still caught by lone requests (the stall verdict's own
 * source).
 */
import { LOSS_PROBE_COUNT, type LossProbeResult } from '@wingman/protocol';
import { LOSS_PROBE_CLEAN_STORAGE_KEY } from '../shared/constants';

/** How long a clean measurement stands for the tab, ms. */
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

/** Whether this tab should probe its new channel. */
export function lossProbeDue(now = Date.now(), store = sessionStore()): boolean {
  try {
    const at = Number(store?.getItem(LOSS_PROBE_CLEAN_STORAGE_KEY) ?? NaN);
    return !(Number.isFinite(at) && at <= now && now - at < LOSS_PROBE_REUSE_MS);
  } catch {
    return true;
  }
}

/**
 * Records a measurement's outcome: clean (every probe sent, or none answered:
 * no agent to ask) stands for a while; lossy, or cut short by the channel
 * closing, does not.
 */
export function lossProbeMeasured(r: LossProbeResult, now = Date.now(), store = sessionStore()): void {
  try {
    if (r.lossy) store?.removeItem(LOSS_PROBE_CLEAN_STORAGE_KEY);
    else if (r.sent >= LOSS_PROBE_COUNT || r.echoed === 0) store?.setItem(LOSS_PROBE_CLEAN_STORAGE_KEY, String(now));
  } catch {
    /* storage full or disabled: the next channel probes again */
  }
}
