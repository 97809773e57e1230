/**
 * The agent's own time for an exchange, told to the Service Worker that
 * asked (AGENT_TIME_HEADER, P2P only), so its measure of the path leaves out
 * the app's (docs/PROTOCOL.md §Route and fetch metadata headers).
 */
import { AGENT_TIME_HEADER, AGENT_TIME_MAX_MS, type HeaderList } from '@wingman/protocol';
import type { TransportName } from './headers';

/** The response head to send: `headers` plus the agent's time when the request asked over P2P (any such field of the app's replaced). */
export function withAgentTime(
  headers: HeaderList,
  requestHeaders: HeaderList,
  transport: TransportName,
  startedAt: number,
  now = performance.now(),
): HeaderList {
  if (transport !== 'p2p' || !requestHeaders.some(([n]) => n === AGENT_TIME_HEADER)) return headers;
  const ms = Math.min(AGENT_TIME_MAX_MS, Math.max(0, Math.round(now - startedAt)));
  return [...headers.filter(([n]) => n !== AGENT_TIME_HEADER), [AGENT_TIME_HEADER, String(ms)]];
}
