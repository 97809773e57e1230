/**
 * Loopback ports for processes a test starts that cannot report their own:
 * a free one to give them, and whether something listens on one yet.
 */
import { connect, createServer } from 'node:net';
import { until } from './wait';

/** A free loopback port (listened on once, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `what` (a server that announces nothing when it listens) accepts connections on 127.0.0.1:port. */
export async function waitForListening(port: number, what: string, timeoutMs: number): Promise<void> {
  await until(() => canConnect(port), { timeoutMs, intervalMs: 50, what: `${what} to listen on 127.0.0.1:${port}` });
}
