/**
 * The agent's own time for a P2P exchange (AGENT_TIME_HEADER): asked for in
 * the request, taken off the response head before anything reads it, and
 * left out of the path's measure, so a path's time to the head is the path's
 * (the channel, the shell, the agent's hops) and not what the app took: a
 * module the dev server transforms for 60 ms is no stall of the path
 * (path-choice.ts). docs/PROTOCOL.md §Route and fetch metadata headers.
 */
import { AGENT_TIME_HEADER, AGENT_TIME_MAX_MS } from '../shared/constants';
import type { WireHeaders } from '../shared/messages';

/** The request field that asks the agent for its time. */
export const AGENT_TIME_ASKED: [string, string] = [AGENT_TIME_HEADER, '?1'];

/**
 * Removes the agent's time from a response head (in place: the head is the
 * SW's own copy) and returns it, ms; 0 when absent or not a whole number
 * within AGENT_TIME_MAX_MS (an agent that does not tell).
 */
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
