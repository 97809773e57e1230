import { Connection, type ConnectionOptions } from '@wingman/protocol';

/**
 * Two connections joined by an in-memory transport that delivers
 * asynchronously (setImmediate), as a socket would. `client` plays the
 * tunnel server or a viewer; `server` plays the agent.
 * Same pattern as packages/protocol/test/unit/pair.ts.
 */
export function connectedPair(opts: Partial<ConnectionOptions> = {}): { client: Connection; server: Connection; close(): void } {
  let client!: Connection;
  let server!: Connection;
  let open = true;
  const make = (deliver: () => Connection) => ({
    send: (m: Uint8Array) => {
      const copy = m.slice();
      setImmediate(() => open && deliver().receive(copy));
    },
    bufferedAmount: () => 0,
    close: () => {
      if (!open) return;
      open = false;
      setImmediate(() => {
        client.transportClosed();
        server.transportClosed();
      });
    },
  });
  client = new Connection({ ...opts, role: 'client', transport: make(() => server) });
  server = new Connection({ ...opts, role: 'server', transport: make(() => client) });
  return { client, server, close: () => make(() => client).close() };
}
