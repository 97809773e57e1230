/**
 * Turns the agent's `--json` events (packages/relay-server/src/cli/reporter.ts)
 * into the short human lines the quick start prints: one per request, like
 * the agent's own human mode (packages/relay-server/src/cli/reporter.ts), one
 * per connection change and per P2P viewer. Events with nothing to tell a
 * person (terminal-view frames, `closed`) print nothing.
 */
import { shortViewerId } from '@wingman/protocol';

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
    case 'peer': {
      const viewer = shortViewerId(String(e.viewer ?? e.viewerId ?? '?'));
      const what =
        e.state === 'connected'
          ? `connected peer-to-peer in ${e.connectMs ?? '?'} ms`
          : e.state === 'failed'
            ? `P2P failed (${e.reason ?? 'unknown'}); this viewer stays on the relay`
            : `P2P closed (${e.reason ?? 'closed'})`;
      return `viewer ${viewer}  ${what}`;
    }
    case 'viewer':
      return e.state === 'waiting'
        ? `viewer ${shortViewerId(String(e.id ?? '?'))} from ${e.address ?? '?'} waits to be let in`
        : `viewer ${shortViewerId(String(e.id ?? '?'))} ${e.state ?? ''}`;
    default:
      return null;
  }
}
