/**
 * The set-up timeline of each peer connection the P2P host answers, at debug
 * level only: `NODE_DEBUG=wingman-ice` (the P2P host process inherits the
 * agent's environment and stderr). One line per event, in ms since the
 * viewer's offer reached the host: the answer, each local and remote
 * candidate (its type and protocol), the end of gathering, and the ICE and
 * connection states. Where a slow channel set-up spends its time
 * (docs/operations.md §Slow peer-to-peer set-up).
 */
import { debuglog } from 'node:util';

const debug = debuglog('wingman-ice');

/** Records one event of a peer connection's set-up. */
export type IceTrace = (event: string) => void;

const NONE: IceTrace = () => undefined;

/** A trace for the peer connection of `viewerId`, timed from now; a no-op unless NODE_DEBUG names wingman-ice. */
export function startIceTrace(viewerId: string, now: () => number = () => performance.now()): IceTrace {
  if (!debug.enabled) return NONE;
  const started = now();
  return (event) => debug('viewer %s +%d ms %s', viewerId, Math.round(now() - started), event);
}

/** `srflx udp`, `host tcp`, … from an ICE candidate line (`candidate:…` or `a=candidate:…`); `?` for a field it lacks. */
export function candidateKind(candidate: string): string {
  const fields = candidate.trim().split(/\s+/);
  const typ = fields.indexOf('typ');
  return `${typ >= 0 && fields[typ + 1] ? fields[typ + 1] : '?'} ${fields[2]?.toLowerCase() ?? '?'}`;
}
