/** A one-time check that something listens on the target, so the developer hears about a stopped app before a viewer does. */
import { connect } from 'node:net';
import type { Target } from '../forward';

/** A refused or silent port answers within this on loopback; a remote host gets the same bound, ms. */
const PROBE_TIMEOUT_MS = 2_000;

/** Resolves true when a TCP connection to the target opens (it is closed at once). */
export function probeTarget(target: Target, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
