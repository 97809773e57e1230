/**
 * A cluster node forwarding a viewer's WebSocket upgrade to the node that owns the session (cluster/node-forward.ts,
 * http-proxy): when the owner's connection fails after it answered the upgrade, the viewer's socket, which now
 * carries WebSocket frames, is closed; no HTTP 502 is written into it (a client reads its "H" as a frame with RSV1
 * set). Before the owner answers, a failure still gets the 502.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { createNodeForwarder, type NodeForwarder } from '../../src/cluster/node-forward';

/** A masked WebSocket text frame, "hi", as a client sends it. */
const CLIENT_FRAME = Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);

/** Every byte the viewer's socket receives until the forwarding node closes it; a frame goes out once a 101 came. */
function upgradeThrough(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d) => {
      chunks.push(d);
      if (chunks.length === 1 && d.toString('latin1').startsWith('HTTP/1.1 101')) socket.write(CLIENT_FRAME);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: s.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('a WebSocket upgrade forwarded to the owner node', () => {
  const servers: Server[] = [];
  let forwarder: NodeForwarder;

  /** The forwarding node: every upgrade goes to `owner`. */
  async function forwardingNode(owner: string): Promise<number> {
    forwarder = createNodeForwarder(pino({ level: 'silent' }), () => 'hop');
    const node = createServer();
    node.on('upgrade', (req, socket, head) => forwarder.ws(req, socket, head, owner));
    servers.push(node);
    return listen(node);
  }

  afterEach(async () => {
    forwarder?.close();
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it("closes the viewer's socket, with no 502 in its frames, when the owner resets the connection after its 101", async () => {
    const owner = createServer();
    owner.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      // The viewer's first frame came through: the connection is reset under it.
      socket.once('data', () => socket.resetAndDestroy());
    });
    servers.push(owner);
    const node = await forwardingNode(`http://127.0.0.1:${await listen(owner)}`);
    const received = await upgradeThrough(node);
    expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(received).not.toContain('502');
  });

  it('answers 502 when the owner cannot be reached before any answer', async () => {
    const gone = createServer();
    const port = await listen(gone);
    await new Promise((r) => gone.close(r));
    const node = await forwardingNode(`http://127.0.0.1:${port}`);
    expect(await upgradeThrough(node)).toMatch(/^HTTP\/1\.1 502 /);
  });
});
