/**
 * ICE at debug level. The set-up timeline of each peer connection, with
 * `NODE_DEBUG=wingman-ice`: one line per event in ms since the offer
 * (docs/operations.md §Slow peer-to-peer set-up). ICE trouble that does not
 * end a connection (a remote candidate the stack refused) is no warning:
 * printed only with `NODE_DEBUG=wingman`.
 */
import { debuglog } from 'node:util';

const debug = debuglog('wingman-ice');
const debugIce = debuglog('wingman');

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

/** A rejection handler for addIceCandidate that logs at debug level instead of dropping the error silently. */
export function iceCandidateNotAdded(viewerId: string): (err: unknown) => void {
  return (err) => debugIce('viewer %s: ICE candidate not added: %s', viewerId, err instanceof Error ? err.message : String(err));
}
