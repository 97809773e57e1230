/**
 * When a live session prepares its tab's next page load's peer connection
 * (docs/PROTOCOL.md §Resumed peer connections): once the shell's document
 * has loaded (its `load` waits for the app frame's first load), so neither
 * end's set-up competes with the page load's wave, then again before the
 * kept record ages out (resume-record.ts), while the session lives. Not
 * over TURN: a resumed peer connection is made with the kept ICE servers of
 * the next page's hello, and a relayed pair is not the set-up the kept
 * answer describes.
 */
import { RESUME_RECORD_MAX_AGE_MS } from './resume-record';

/** After the shell's load (or the session's start, if later), ms. */
export const RESUME_PREPARE_DELAY_MS = 0;

/** The shell's load is waited for this long at most, ms (an app frame that never loads). */
export const RESUME_LOAD_WAIT_MS = 10_000;

/** Again this often, ms: a fresh record before the last one is too old to use. */
export const RESUME_REFRESH_MS = RESUME_RECORD_MAX_AGE_MS - 60_000;

export interface ResumeTarget {
  prepareNext(): Promise<boolean>;
  onClosed(fn: (reason: string) => void): void;
}

/** Starts preparing for `s`; `skip()`: not now (a TURN pair). Stops when the session closes. */
export function scheduleResume(s: ResumeTarget, skip: () => boolean): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const run = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      const done = skip() ? Promise.resolve(false) : s.prepareNext().catch(() => false);
      void done.then(() => run(RESUME_REFRESH_MS));
    }, delay);
  };
  s.onClosed(() => {
    closed = true;
    clearTimeout(timer);
  });
  if (document.readyState === 'complete') return run(RESUME_PREPARE_DELAY_MS);
  const start = () => {
    window.removeEventListener('load', start);
    clearTimeout(timer);
    run(RESUME_PREPARE_DELAY_MS);
  };
  window.addEventListener('load', start);
  timer = setTimeout(start, RESUME_LOAD_WAIT_MS);
}
