/**
 * The spare P2P host process (per-viewer-hosts.ts): started ahead, so the next offer is answered by a process that has
 * node and wrtc loaded and warmed. A start costs ~0.11 s of CPU on an idle machine: the next spare waits until the
 * agent has forwarded no request for SPARE_QUIET_MS (the page load that took the last one is over), or SPARE_LATEST_MS
 * after the take. Spares that die (no viewer to blame: the machine may not run them) make the next start wait, 0.5 s
 * doubling up to 30 s, until one gets ready. A process whose viewer has gone is the next spare in place of a new one
 * (recycle): warm from serving that viewer, its next page load costs the developer a quarter less CPU (docs/speed-ledger.md).
 */
import { backoffDelay } from '@wingman/protocol';
import type { HostCrash, IsolatedPeerHost } from './isolated-peer-host';

/** The next spare starts after this long without a forwarded request (relay or P2P)… */
export const SPARE_QUIET_MS = 500;
/** …or this long after the last one was taken, however busy the agent is, ms. */
export const SPARE_LATEST_MS = 10_000;
const START_RETRY = { initialMs: 500, maxMs: 30_000, jitter: false } as const;
/** A process serves at most this many viewers, one after another, then ends: whatever a viewer leaves behind stays bounded. */
export const MAX_VIEWERS_PER_HOST = 32;

export function createSpareHost(make: () => IsolatedPeerHost) {
  let spare: IsolatedPeerHost | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failedStarts = 0;
  let failure = '';
  let waitUntil = 0;
  let lastBusy = 0;
  let latest = 0;
  let closed = false;

  /** Starts the next spare once `notBefore` has passed and the agent has been quiet (or at `latest`). */
  const startWhenQuiet = (notBefore: number) => {
    if (closed || spare !== undefined || timer !== undefined) return;
    const at = Math.max(notBefore, Math.min(lastBusy + SPARE_QUIET_MS, latest));
    if (at <= Date.now()) return void (spare = make());
    timer = setTimeout(() => {
      timer = undefined;
      startWhenQuiet(notBefore);
    }, at - Date.now());
    timer.unref?.();
  };

  spare = make();

  return {
    /** The spare, or a new process when none is up; undefined while starts wait. */
    take(): IsolatedPeerHost | undefined {
      if (Date.now() < waitUntil) return undefined;
      const h = spare !== undefined && !spare.ended ? spare : make();
      spare = undefined;
      lastBusy = Date.now();
      latest = lastBusy + SPARE_LATEST_MS;
      startWhenQuiet(lastBusy);
      return h;
    },
    /** `h`, whose viewer has gone, becomes the spare (a new one that served nobody ends; a start waiting is then not needed); false: `h` is to end. */
    recycle(h: IsolatedPeerHost): boolean {
      if (closed || h.ended || h.viewersServed >= MAX_VIEWERS_PER_HOST) return false;
      if (spare !== h) spare?.close();
      spare = h;
      return true;
    },
    /** The agent forwarded a request (relay or P2P): a page load is going on. */
    busy() {
      lastBusy = Date.now();
    },
    /** What ended the last spare, for a refusal while starts wait. */
    get failure() {
      return failure;
    },
    /** The spare now, for settings that change. */
    get current() {
      return spare;
    },
    ready() {
      failedStarts = 0;
    },
    /** A process that served no viewer ended. */
    died(h: IsolatedPeerHost, crash: HostCrash) {
      if (spare === h) spare = undefined;
      failedStarts++;
      failure = `${crash.beforeReady ? 'failed to start' : 'ended'} (${crash.spawnError ?? crash.signal ?? `exit code ${crash.code}`})`;
      waitUntil = Date.now() + backoffDelay(failedStarts, START_RETRY);
      latest = waitUntil;
      startWhenQuiet(waitUntil);
    },
    close() {
      closed = true;
      clearTimeout(timer);
      spare?.close();
      spare = undefined;
    },
  };
}
