/**
 * Watching the shell's P2P attempt from a test before client.js has run:
 * the attempt marks its milestones on the shell's timeline
 * (`window.__wingmanTimeline`, src/page/timeline.ts) from the inline script on.
 */
import { until } from '../../../../../test/helpers/wait';
import { inPage, WAIT_MS, type AnyPage } from './shell';

/**
 * Polls the page (at most WAIT_MS) and calls `reached()` once the timeline
 * holds `name` (e.g. `channel-open`); never rejects (the test's own
 * assertions say what did not happen).
 */
export function watchInlineMark(page: AnyPage, name: string, reached: () => void): void {
  void until(
    async () =>
      (await inPage(page, (n) => (window as unknown as { __wingmanTimeline?: Record<string, number> }).__wingmanTimeline?.[n] !== undefined, name).catch(
        () => false,
      )) || undefined,
    { timeoutMs: WAIT_MS, intervalMs: 20, what: `the inline script's ${name} mark` },
  ).then(reached, () => undefined);
}
