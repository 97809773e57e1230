/**
 * Turns the agent's `--json` events (packages/relay-server/src/cli/reporter.ts)
 * into the short human lines the quick start prints: one per request, like
 * the agent's own human mode, and one per connection change. Unknown events
 * are shown as compact JSON rather than dropped.
 */

/** Longer paths are cut so a request stays on one terminal line. */
const MAX_PATH_CHARS = 60;

/**
 * @param {Record<string, unknown>} e one JSON line from `wingman http --json`
 * @returns {string | null} the line to print, or null for events shown elsewhere
 */
export function formatAgentEvent(e) {
  switch (e.event) {
    case 'ready':
      return null; // the banner shows it
    case 'request': {
      const target = String(e.target ?? '');
      const path = target.length > MAX_PATH_CHARS ? `${target.slice(0, MAX_PATH_CHARS - 1)}…` : target;
      const status = e.status === 0 ? String(e.error ?? 'reset') : String(e.status ?? '?');
      return `${String(e.method ?? '?').padEnd(7)} ${path.padEnd(MAX_PATH_CHARS)} ${status.padStart(3)} ${String(e.ms ?? '?').padStart(6)} ms  ${e.transport ?? ''}`;
    }
    case 'reconnecting':
      return `agent: ${e.reason ?? 'disconnected'}; retrying in ${(Number(e.delayMs ?? 0) / 1000).toFixed(1)} s (attempt ${e.attempt ?? '?'})`;
    case 'disconnected':
      return null; // the 'reconnecting' event that follows carries the same reason
    case 'warning':
      return `agent warning: ${e.message ?? e.code}`;
    case 'fatal':
      return `agent error: ${e.message ?? e.code}`;
    case 'closed':
      return null;
    default:
      return `agent: ${JSON.stringify(e)}`;
  }
}
