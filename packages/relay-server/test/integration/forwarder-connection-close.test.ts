/**
 * Apps that end the connection with the response (HTTP/1.0 servers, and
 * `Connection: close`), served to a viewer that stops reading and then reads
 * slowly: the forwarder pauses its reads from the app while the stream is
 * full, and the app's FIN (or reset) comes while they are paused. The body must arrive whole,
 * or, after a reset, the one stream must be reset; nothing may throw out of
 * the HTTP client (in the P2P host process that ended every viewer's
 * channel). A real forwarder on an in-memory connection pair, a real TCP
 * app on 127.0.0.1 that writes its responses by hand.
 *
 * The pair's stream windows do not auto-tune (maxStreamWindow = the initial
 * window): a window grown towards 2 MiB would let the forwarder read the
 * whole body without ever pausing, and the cases would test nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { DEFAULT_STREAM_WINDOW_BYTES, STREAM_SEND_BEYOND_WINDOW_BYTES, type Connection, type ProtocolError, type Stream } from '@wingman/protocol';
import { createForwarder, type Forwarder } from '../../src/forward';
import { connectedPair } from './helpers/pair';
import { bodyOf, header, responseOf, send } from './helpers/viewer';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(60_000);

/** Every stream's window, fixed: no auto-tuning. */
const WINDOW = DEFAULT_STREAM_WINDOW_BYTES;
/** Larger than a stream's window and the bytes queued beyond it: the forwarder pauses before the app is done. */
const BODY = randomBytes(1_000_000);
/**
 * What the resetting app writes of its BODY.length-byte response: more than the forwarder takes before it
 * pauses, so the reset comes while it is paused. Never the whole body: once written, bytes may already sit
 * in the agent's receive queue when the reset comes, and Linux still delivers those (then reports a plain
 * end), so a body written whole could arrive whole, whenever the app's kernel had sent it all in time.
 */
const RESET_PREFIX = 600_000;
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

type Framing = 'content-length' | 'close-delimited' | 'reset';

let server: Server;
let port: number;
const sockets = new Set<Socket>();
let forwarder: Forwarder | undefined;
let pair: ReturnType<typeof connectedPair> | undefined;
/** The agent's end of the last stream the forwarder took. */
let agentStream: Stream | undefined;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (request) => {
      const target = /^GET (\S+)/.exec(request.toString('latin1'))?.[1] ?? '/';
      if (target === '/small') {
        socket.end('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nsmall');
        return;
      }
      const framing = target.slice(1) as Framing;
      const length = framing === 'close-delimited' ? '' : `Content-Length: ${BODY.length}\r\n`;
      socket.write(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n${length}\r\n`);
      if (framing === 'reset') {
        // Part of the body goes to the kernel; the test resets the connection once the viewer has part of that.
        socket.write(BODY.subarray(0, RESET_PREFIX), () => server.emit('written', socket));
      } else {
        socket.end(BODY, () => server.emit('written'));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  pair?.close();
  pair = undefined;
  forwarder?.close();
  forwarder = undefined;
});

function tunnel(): Connection {
  const f = createForwarder({ target: { host: '127.0.0.1', port } });
  forwarder = f;
  pair = connectedPair({ initialWindow: WINDOW, maxStreamWindow: WINDOW });
  pair.server.on('stream', (s) => {
    agentStream = s;
    f.handleStream(s, 'p2p');
  });
  return pair.client;
}

/** Opens `target`, stops reading once the head is in, and starts again once the app has written the whole response. */
async function readAfterTheAppIsDone(conn: Connection, target: string): Promise<{ stream: Stream; status: number }> {
  const written = waitForEvent(server, 'written', { timeoutMs: 20_000, what: `the app to write ${target}` });
  const stream = conn.open('http', { method: 'GET', target, headers: [['host', 'h']] }, { end: true });
  const head = await responseOf(stream);
  stream.pause();
  await written;
  return { stream, status: head.status };
}

/** A viewer that takes one chunk per turn of the event loop, as a slow channel would. */
function slowReader(stream: Stream): void {
  stream.on('data', () => {
    stream.pause();
    setImmediate(() => stream.resume());
  });
  stream.resume();
}

describe('forwarder: apps that end the connection with the response, to a slow viewer', () => {
  it.each(['content-length', 'close-delimited'] as const)('delivers a %s body whole, every time', async (framing) => {
    const conn = tunnel();
    for (let i = 0; i < 8; i++) {
      const { stream, status } = await readAfterTheAppIsDone(conn, `/${framing}`);
      expect(status).toBe(200);
      const body = bodyOf(stream, true);
      slowReader(stream);
      expect(await body).toMatchObject({ length: BODY.length, sha256: BODY_SHA });
    }
  });

  it('resets the one stream whose app reset the connection mid-body, and serves the next request', async () => {
    const conn = tunnel();
    const written = waitForEvent<Socket>(server, 'written', { timeoutMs: 20_000, what: 'the app to write /reset' });
    const stream = conn.open('http', { method: 'GET', target: '/reset', headers: [['host', 'h']] }, { end: true });
    const appSocket = await written;
    expect((await responseOf(stream)).status).toBe(200);
    const body = bodyOf(stream, true);
    let received = 0;
    let atReset = { held: 0, window: 0 };
    stream.on('data', (chunk) => {
      received += chunk.length;
      if (received >= BODY.length / 4 && !appSocket.destroyed) {
        atReset = { held: agentStream?.pendingBytes ?? 0, window: agentStream?.sendWindow ?? 0 };
        appSocket.resetAndDestroy();
      }
    });
    slowReader(stream);
    const err = await body.then<undefined, ProtocolError>(
      () => undefined,
      (e: ProtocolError) => e,
    );
    // The forwarder held more than the window lets out plus one read: it had paused the app when the reset came.
    expect(atReset.held).toBeGreaterThan(Math.max(0, atReset.window) + STREAM_SEND_BEYOND_WINDOW_BYTES);
    expect(err?.code).toBe('ERR_UPSTREAM_ERROR');
    expect(err?.message).toMatch(/the local app's response broke off/);
    const next = await send(conn, { target: '/small' });
    expect({ status: next.status, body: next.body.toString(), transport: header(next.headers, 'x-wingman-transport') }).toEqual({
      status: 200,
      body: 'small',
      transport: 'p2p',
    });
  });
});
