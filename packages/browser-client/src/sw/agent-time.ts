/**
 * The agent's own time for a P2P exchange (AGENT_TIME_HEADER): asked for in the request, taken off the
 * response head, and left out of the path's time to the head, which is then the path's and not the app's (a
 * module the dev server transforms for 60 ms is no stall). docs/PROTOCOL.md §Route and fetch metadata headers.
 */
import { AGENT_TIME_HEADER, AGENT_TIME_MAX_MS } from '@wingman/protocol';
import type { WireHeaders } from '../shared/messages';

/** The request field that asks the agent for its time. */
export const AGENT_TIME_ASKED: [string, string] = [AGENT_TIME_HEADER, '?1'];

/** Removes the agent's time from a response head (the SW's own copy) and returns it, ms; 0 when absent or invalid. */
export function takeAgentTime(headers: WireHeaders): number {
  let ms = 0;
  for (let i = headers.length - 1; i >= 0; i--) {
    if (headers[i]![0] !== AGENT_TIME_HEADER) continue;
    const v = headers[i]![1].trim();
    if (/^\d{1,7}$/.test(v) && Number(v) <= AGENT_TIME_MAX_MS) ms = Number(v);
    headers.splice(i, 1);
  }
  return ms;
}
