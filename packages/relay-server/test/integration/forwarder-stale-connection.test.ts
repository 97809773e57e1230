/**
 * The forwarder against an app that closes each keep-alive connection as
 * its next request arrives (test/helpers/edge-app.ts `closeReused`: an idle
 * connection the app closed just as the forwarder reused it), with a FIN or
 * an RST: a request without a body is sent again on another connection and
 * answered (stale-connection.ts), as a browser does straight on the app;
 * an upload, which cannot be replayed, and a request the app hung up on a
 * fresh connection get the 502 page, each sent once. Real in-memory
 * Connection pair, real app on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { patternSha256 } from '../../../../test/helpers/fixture-app';
import { startEdgeApp, type EdgeApp } from '../../../../test/helpers/edge-app';
import { createForwarder, type Forwarder } from '../../src/forward';
import { connectedPair } from './helpers/pair';
import { bodyOf, send } from './helpers/viewer';

jest.setTimeout(30_000);

let app: EdgeApp | undefined;
let forwarder: Forwarder | undefined;
let pair: ReturnType<typeof connectedPair> | undefined;

afterEach(async () => {
  pair?.close();
  pair = undefined;
  forwarder?.close();
  forwarder = undefined;
  await app?.close();
  app = undefined;
});

async function tunnelTo(closeReused: 'close' | 'reset') {
  app = await startEdgeApp({ closeReused });
  const f = createForwarder({ target: { host: '127.0.0.1', port: app.port } });
  forwarder = f;
  pair = connectedPair();
  pair.server.on('stream', (s) => f.handleStream(s, 'relay'));
  return { conn: pair.client, app };
}

describe.each(['close', 'reset'] as const)('forwarder: an app that closes a reused connection unanswered (%s)', (closeReused) => {
  it('sends each request without a body again, and every one is answered', async () => {
    const { conn, app } = await tunnelTo(closeReused);
    const sizes = [1, 70_000, 1_000, 0, 300_000];
    const replies = [];
    for (const n of sizes) {
      const stream = conn.open('http', { method: 'GET', target: `/bytes?n=${n}`, headers: [['host', 'abc.localhost:8080']] }, { end: true });
      const { sha256, length } = await bodyOf(stream, true);
      replies.push({ length, sha256 });
    }
    expect(replies).toEqual(sizes.map((n) => ({ length: n, sha256: patternSha256(n) })));
    // It happened: the forwarder reused connections the app then closed under a request.
    expect(app.closedOnReuse()).toBeGreaterThan(0);
  });

  it('answers an upload on a reused connection the app closed with the 502 page, and sends it once', async () => {
    const { conn, app } = await tunnelTo(closeReused);
    const body = Buffer.from('an upload the forwarder cannot replay');
    const first = await send(conn, { method: 'POST', target: '/upload', body });
    expect({ status: first.status, body: first.body.toString() }).toEqual({ status: 200, body: createHash('sha256').update(body).digest('hex') });
    const second = await send(conn, { method: 'POST', target: '/upload', body });
    expect(second.status).toBe(502);
    expect(app.requests).toEqual(['POST /upload', 'POST /upload']);
  });
});

it('answers a request the app hung up on a fresh connection with the 502 page, and sends it once', async () => {
  const { conn, app } = await tunnelTo('close');
  const r = await send(conn, { target: '/hang-up' });
  expect(r.status).toBe(502);
  expect(r.body.toString()).toContain('closed the connection without answering');
  expect(app.requests).toEqual(['GET /hang-up']);
});
