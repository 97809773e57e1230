/**
 * ICE trouble that does not end a connection (a remote candidate the local
 * stack refused, e.g. an mDNS name it cannot resolve or a candidate for a
 * torn-down transport): the connection goes on with the other candidates,
 * so it is not a warning. Printed at debug level only, with Node's own
 * switch: `NODE_DEBUG=wingman` (the P2P host process inherits it and its
 * stderr).
 */
import { debuglog } from 'node:util';

const debug = debuglog('wingman');

/** A rejection handler for addIceCandidate that logs at debug level instead of dropping the error silently. */
export function iceCandidateNotAdded(viewerId: string): (err: unknown) => void {
  return (err) => debug('viewer %s: ICE candidate not added: %s', viewerId, err instanceof Error ? err.message : String(err));
}
