/**
 * The spare P2P host process (per-viewer-hosts.ts): started ahead, so the
 * next offer is answered by a process that has node and wrtc loaded and
 * warmed. Spares that die (no viewer to blame: the machine may not run them)
 * make the next start wait, 0.5 s doubling up to 30 s, until one gets ready.
 */
import { backoffDelay } from '@wingman/protocol';
import type { HostCrash, IsolatedPeerHost } from './isolated-peer-host';

/** The next spare starts this long after one was taken: not during the page load that took it (a start costs ~0.5 s of CPU), ms. */
export const SPARE_AFTER_MS = 3_000;
const START_RETRY = { initialMs: 500, maxMs: 30_000, jitter: false } as const;

export function createSpareHost(make: () => IsolatedPeerHost) {
  let spare: IsolatedPeerHost | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failedStarts = 0;
  let failure = '';
  let waitUntil = 0;
  let closed = false;

  const later = (delayMs: number) => {
    if (closed || spare !== undefined || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed && spare === undefined) spare = make();
    }, delayMs);
    timer.unref?.();
  };

  spare = make();

  return {
    /** The spare, or a new process when none is up; undefined while starts wait. The next spare comes SPARE_AFTER_MS later. */
    take(): IsolatedPeerHost | undefined {
      if (Date.now() < waitUntil) return undefined;
      const h = spare !== undefined && !spare.ended ? spare : make();
      spare = undefined;
      later(SPARE_AFTER_MS);
      return h;
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
      later(waitUntil - Date.now());
    },
    close() {
      closed = true;
      clearTimeout(timer);
      spare?.close();
      spare = undefined;
    },
  };
}
