import { Connection, type ConnectionOptions } from '@wingman/protocol';

export interface PairOptions extends Partial<Omit<ConnectionOptions, 'transport' | 'role'>> {
  /** Sees every message on the wire, before delivery. */
  tap?: (from: 'client' | 'server', message: Uint8Array) => void;
  /** Options for the server side only (merged over the shared ones). */
  server?: Partial<Omit<ConnectionOptions, 'transport' | 'role'>>;
}

export interface Pair {
  client: Connection;
  server: Connection;
  /** Closes the in-memory transport under both connections (as a dropped socket). */
  close(): void;
}

/** Two connections joined by an in-memory transport that delivers asynchronously, as a socket would. */
export function connectedPair(opts: PairOptions = {}): Pair {
  const { tap, server: serverOpts, ...shared } = opts;
  let client!: Connection;
  let server!: Connection;
  let open = true;
  let closing = false;
  // Like a WebSocket close: messages sent before close() still arrive, later ones do not.
  const closeBoth = () => {
    if (closing) return;
    closing = true;
    setImmediate(() => {
      open = false;
      client.transportClosed();
      server.transportClosed();
    });
  };
  const make = (from: 'client' | 'server', deliver: () => Connection) => ({
    send: (m: Uint8Array) => {
      if (closing) return;
      const copy = m.slice();
      tap?.(from, copy);
      setImmediate(() => open && deliver().receive(copy));
    },
    bufferedAmount: () => 0,
    close: closeBoth,
  });
  client = new Connection({ ...shared, role: 'client', transport: make('client', () => server) });
  server = new Connection({ ...shared, ...serverOpts, role: 'server', transport: make('server', () => client) });
  return { client, server, close: closeBoth };
}

/** Resolves on the next turn of the event loop (after microtasks and pending deliveries queued before it). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Polls `cond` once per event-loop turn, at most `turns` times; rejects with `what` when it never holds. */
export async function waitFor(cond: () => boolean, what: string, turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for: ${what}`);
}
