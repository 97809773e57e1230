/**
 * Watching the shell's inline P2P attempt from a test: whether the agent's
 * answer reached it before client.js took the attempt over (the inline
 * script keeps it among its signaling messages and marks `answer-in`).
 */
import { until } from '../../../../../test/helpers/wait';
import { inPage, WAIT_MS, type AnyPage } from './shell';

/**
 * Polls the page (at most WAIT_MS) and calls `arrived()` once the inline
 * script holds the first peer connection's answer; never rejects (the
 * test's own assertions say what did not happen).
 */
export function watchEarlyAnswer(page: AnyPage, arrived: () => void): void {
  void until(
    async () =>
      (await inPage(
        page,
        () =>
          (window as unknown as { __wingmanShell?: { early?: { marks?: Record<string, number> } } }).__wingmanShell?.early?.marks?.['answer-in'] !== undefined,
        undefined,
      ).catch(() => false)) || undefined,
    { timeoutMs: WAIT_MS, intervalMs: 20, what: "the agent's answer at the inline script" },
  ).then(arrived, () => undefined);
}
