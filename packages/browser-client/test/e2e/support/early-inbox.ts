/**
 * Watching the shell's inline P2P attempt from a test: whether the agent has
 * spoken on its first channel before client.js took the attempt over (the
 * inline script holds such messages: the protocol package's transports/channel-inbox.ts).
 */
import { until } from '../../../../../test/helpers/wait';
import { inPage, WAIT_MS, type AnyPage } from './shell';

/**
 * Polls the page (at most WAIT_MS) and calls `spoke()` once the inline
 * script's first channel holds a message; never rejects (the test's own
 * assertions say what did not happen).
 */
export function watchEarlyInbox(page: AnyPage, spoke: () => void): void {
  void until(
    async () =>
      (await inPage(
        page,
        () =>
          ((window as unknown as { __wingmanShell?: { early?: { peers?: Array<{ inbox?: Array<{ messages: unknown[] }> }> } } }).__wingmanShell?.early
            ?.peers?.[0]?.inbox?.[0]?.messages.length ?? 0) > 0,
        undefined,
      ).catch(() => false)) || undefined,
    { timeoutMs: WAIT_MS, intervalMs: 20, what: "the agent's first message on the inline script's channel" },
  ).then(spoke, () => undefined);
}
