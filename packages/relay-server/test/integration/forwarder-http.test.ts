/**
 * The forwarder serving HTTP streams of a real in-memory Connection pair to
 * a real local app on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { createBufferBudget, MAX_HEADER_COUNT, type Connection, type ProtocolError, type Stream } from '@wingman/protocol';
import { createForwarder, type Forwarder, type ForwarderOptions, type RequestLogEntry } from '../../src/forward';
import { UPSTREAM_CONNECTIONS } from '../../src/forward/upstream';
import { connectedPair } from './helpers/pair';
import { BLOCK, blocksSha256, freePort, startLocalApp, type LocalApp } from './helpers/local-app';
import { bodyOf, header, responseOf, send, writeBody } from './helpers/viewer';
import { delay, expectUnchangedWithin, until } from '../../../../test/helpers/wait';

jest.setTimeout(60_000);

const MiB = 1024 * 1024;
let app: LocalApp;
let forwarder: Forwarder | undefined;
let pair: ReturnType<typeof connectedPair> | undefined;
let log: RequestLogEntry[];

beforeEach(async () => {
  app = await startLocalApp();
  log = [];
});

afterEach(async () => {
  pair?.close();
  pair = undefined;
  forwarder?.close();
  forwarder = undefined;
  await app.close();
});

/** A forwarder to the local app behind the `server` side of a connection pair; returns the viewer's side. */
function tunnel(options: Partial<ForwarderOptions> = {}, transport: 'relay' | 'p2p' = 'relay'): Connection {
  const f = createForwarder({ target: { host: '127.0.0.1', port: app.port }, onRequest: (e) => log.push(e), ...options });
  forwarder = f;
  pair = connectedPair();
  pair.server.on('stream', (s) => f.handleStream(s, transport));
  return pair.client;
}

describe('forwarder: HTTP', () => {
  it.each(['GET', 'POST', 'PUT', 'DELETE'])('forwards %s with its body and marks the transport', async (method) => {
    const conn = tunnel();
    const body = method === 'GET' ? undefined : Buffer.from(`body of ${method}`);
    const r = await send(conn, { method, target: '/echo?x=1', body });
    expect(r.status).toBe(200);
    expect(header(r.headers, 'x-method')).toBe(method);
    expect(header(r.headers, 'x-wingman-transport')).toBe('relay');
    expect(r.body.toString()).toBe(body ? body.toString() : '');
    expect(app.seen[0]!.url).toBe('/echo?x=1');
    expect(log).toEqual([expect.objectContaining({ method, target: '/echo?x=1', status: 200, transport: 'relay' })]);
  });

  it('answers HEAD with the head only', async () => {
    const r = await send(tunnel(), { method: 'HEAD', target: '/echo' });
    expect(r.status).toBe(200);
    expect(header(r.headers, 'x-method')).toBe('HEAD');
    expect(r.body.length).toBe(0);
  });

  it('ends a 204 right after its head', async () => {
    const r = await send(tunnel(), { method: 'POST', target: '/no-content', body: Buffer.from('x') });
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
  });

  it('marks responses served over P2P with x-wingman-transport: p2p', async () => {
    const r = await send(tunnel({}, 'p2p'), { target: '/echo' });
    expect(header(r.headers, 'x-wingman-transport')).toBe('p2p');
  });

  it('passes a request body of unknown length to the app intact, framed chunked or by its whole length', async () => {
    const conn = tunnel();
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(10_000, 65 + i));
    const r = await send(conn, { method: 'PUT', target: '/echo', body: chunks });
    expect(r.body.equals(Buffer.concat(chunks))).toBe(true);
    // The client frames the body: chunked while it streams, or with Content-Length when all of it had arrived.
    const { headers } = app.seen[0]!;
    expect(headers['transfer-encoding'] === 'chunked' || headers['content-length'] === '100000').toBe(true);
  });

  it('uploads 20 MiB with an equal SHA-256', async () => {
    const conn = tunnel();
    const stream = conn.open('http', {
      method: 'POST',
      target: '/sha',
      headers: [
        ['host', 'h'],
        ['content-length', String(20 * MiB)],
      ],
    });
    const head = responseOf(stream);
    const body = bodyOf(stream);
    await writeBody(
      stream,
      Array.from({ length: 20 }, () => BLOCK),
    );
    expect((await head).status).toBe(200);
    expect(JSON.parse((await body).body.toString())).toEqual({ sha: blocksSha256(20), length: 20 * MiB });
  });

  it('downloads 50 MiB with an equal SHA-256', async () => {
    const stream = tunnel().open('http', { method: 'GET', target: '/bytes?blocks=50', headers: [['host', 'h']] }, { end: true });
    const head = await responseOf(stream);
    expect(head.status).toBe(200);
    expect(header(head.headers, 'content-length')).toBe(String(50 * MiB));
    const body = await bodyOf(stream, true);
    expect(body.length).toBe(50 * MiB);
    expect(body.sha256).toBe(blocksSha256(50));
  });

  it('delivers the first SSE event before the response ends', async () => {
    const stream = tunnel().open('http', { method: 'GET', target: '/sse', headers: [['host', 'h']] }, { end: true });
    const head = await responseOf(stream);
    expect(header(head.headers, 'content-type')).toBe('text/event-stream');
    let ended = false;
    stream.on('end', () => (ended = true));
    const first = await new Promise<string>((resolve) => stream.once('data', (c) => resolve(Buffer.from(c).toString())));
    expect(first).toContain('data: first');
    expect(ended).toBe(false);
    // Keep reading (a stream delivers its end only after the data before it).
    stream.on('data', () => undefined);
    const rest = new Promise<void>((resolve) => stream.on('end', resolve));
    app.releaseSse();
    await rest;
  });

  it.each(['relay' as const, 'p2p' as const])('resets the stream when the app breaks off mid-body (over %s), after passing on the head', async (transport) => {
    const conn = tunnel({}, transport);
    const stream = conn.open('http', { method: 'GET', target: '/break', headers: [['host', 'abc.localhost:8080']] }, { end: true });
    const head = await responseOf(stream);
    expect(head.status).toBe(200);
    await expect(bodyOf(stream)).rejects.toMatchObject({ code: 'ERR_UPSTREAM_ERROR' });
  });

  it('cancels the local request when the viewer resets the stream', async () => {
    const stream = tunnel().open('http', { method: 'GET', target: '/hang', headers: [['host', 'h']] }, { end: true });
    await app.waitForRequest();
    expect(app.seen.map((s) => s.url)).toEqual(['/hang']);
    stream.reset('ERR_CANCEL', 'viewer went away');
    await app.waitForAborted('/hang');
    expect(app.aborted).toEqual(['/hang']);
    expect(log).toEqual([expect.objectContaining({ status: 0, error: 'ERR_CANCEL' })]);
  });

  it('answers a readable 502 when the app sends a head the protocol cannot carry', async () => {
    const r = await send(tunnel(), { target: `/many-headers?n=${MAX_HEADER_COUNT + 10}` });
    expect(r.status).toBe(502);
    expect(header(r.headers, 'x-wingman-transport')).toBe('relay');
    expect(r.body.toString()).toContain('could not be forwarded');
    expect(log).toEqual([expect.objectContaining({ status: 502, error: 'ERR_UPSTREAM_ERROR' })]);
  });

  it('answers a readable 502 when nothing listens on the target', async () => {
    const port = await freePort();
    const f = createForwarder({ target: { host: '127.0.0.1', port } });
    forwarder = f;
    pair = connectedPair();
    pair.server.on('stream', (s) => f.handleStream(s, 'relay'));
    const r = await send(pair.client, { target: '/' });
    expect(r.status).toBe(502);
    expect(header(r.headers, 'content-type')).toMatch(/^text\/html/);
    expect(header(r.headers, 'x-wingman-transport')).toBe('relay');
    expect(r.body.toString()).toContain(`nothing answered on <code>127.0.0.1:${port}</code>`);
    expect(r.body.toString()).toContain('Start your app');
  });

  it('answers 504 when the app sends no head within the timeout', async () => {
    const r = await send(tunnel({ timeoutMs: 300 }), { target: '/slow?ms=5000' });
    expect(r.status).toBe(504);
    expect(r.body.toString()).toContain('took too long');
    await app.waitForAborted('/slow');
    expect(app.aborted).toEqual(['/slow']);
  });

  it('answers an upload that arrives more slowly than the timeout: the wait counts from the last body chunk', async () => {
    const conn = tunnel({ timeoutMs: 1_000 });
    // /sha answers once it has read the whole body.
    const stream = conn.open('http', { method: 'POST', target: '/sha', headers: [['host', 'abc.localhost:8080']] });
    const head = responseOf(stream);
    const body = bodyOf(stream);
    const chunks = Array.from({ length: 8 }, (_, i) => Buffer.alloc(1_000, 65 + i));
    for (const chunk of chunks) {
      stream.write(chunk);
      await delay(250); // pacing: a slow upload, 2 s in all against the 1 s timeout
    }
    stream.end();
    expect((await head).status).toBe(200);
    expect(JSON.parse((await body).body.toString())).toEqual({ sha: createHash('sha256').update(Buffer.concat(chunks)).digest('hex'), length: 8_000 });
  });

  it.each([
    [
      'two different Content-Length headers',
      [
        ['content-length', '5'],
        ['content-length', '6'],
      ],
    ],
    [
      'Content-Length with Transfer-Encoding',
      [
        ['content-length', '5'],
        ['transfer-encoding', 'chunked'],
      ],
    ],
    ['a Content-Length list', [['content-length', '5, 5']]],
    ['a negative Content-Length', [['content-length', '-1']]],
  ])('refuses %s with 400 and never reaches the app', async (_name, framing) => {
    const r = await send(tunnel(), {
      method: 'POST',
      target: '/echo',
      headers: [['host', 'h'], ...(framing as Array<[string, string]>)],
      body: Buffer.from('hello'),
    });
    expect(r.status).toBe(400);
    expect(r.body.toString()).toContain('Bad request');
    expect(app.seen).toEqual([]);
  });

  it('refuses a body longer than its Content-Length without passing the extra bytes on', async () => {
    const r = await send(tunnel(), {
      method: 'POST',
      target: '/sha',
      headers: [
        ['host', 'h'],
        ['content-length', '5'],
      ],
      body: Buffer.from('hello, and a smuggled request'),
    });
    expect(r.status).toBe(400);
    expect(r.body.toString()).toContain('longer than its Content-Length');
    // The app either never got the request or saw it aborted; it never read a complete body.
    // 200 ms: far longer than the app takes to hash 5 bytes on loopback, had they been passed on complete.
    await expectUnchangedWithin(() => app.bodiesHashed.length, { windowMs: 200, what: 'bodies the app hashed' });
    expect(app.bodiesHashed).toEqual([]);
  });

  it('drops hop-by-hop request headers and Transfer-Encoding, and rewrites Host to the target', async () => {
    const conn = tunnel();
    const r = await send(conn, {
      method: 'POST',
      target: '/headers',
      headers: [
        ['host', 'abc.localhost:8080'],
        ['connection', 'keep-alive, x-secret-hop'],
        ['x-secret-hop', '1'],
        ['keep-alive', 'timeout=5'],
        ['transfer-encoding', 'chunked'],
        ['te', 'trailers'],
        ['x-forwarded-for', '203.0.113.7'],
        ['x-forwarded-proto', 'https'],
        ['cookie', 'a=1'],
        ['cookie', 'b=2'],
        ['accept', 'text/html'],
        ['accept', 'application/json'],
      ],
      body: Buffer.from('x'),
    });
    const { headers } = JSON.parse(r.body.toString());
    expect(headers.host).toBe(`127.0.0.1:${app.port}`);
    expect(headers['x-forwarded-host']).toBe('abc.localhost:8080');
    expect(headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(headers['x-forwarded-proto']).toBe('https');
    expect(headers['x-secret-hop']).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers.cookie).toBe('a=1; b=2');
    expect(headers.accept).toBe('text/html, application/json');
  });

  it('preserves the viewer Host with hostHeader "preserve", or sends an explicit value', async () => {
    const preserved = await send(tunnel({ hostHeader: 'preserve' }), { target: '/headers', headers: [['host', 'abc.localhost:8080']] });
    expect(JSON.parse(preserved.body.toString()).headers.host).toBe('abc.localhost:8080');
    pair!.close();
    forwarder!.close();
    const explicit = await send(tunnel({ hostHeader: 'myapp.test' }), { target: '/headers', headers: [['host', 'abc.localhost:8080']] });
    expect(JSON.parse(explicit.body.toString()).headers.host).toBe('myapp.test');
  });

  it('drops a viewer-written X-Forwarded-For on P2P streams', async () => {
    const r = await send(tunnel({}, 'p2p'), {
      target: '/headers',
      headers: [
        ['host', 'abc.localhost:8080'],
        ['x-forwarded-for', '6.6.6.6'],
      ],
    });
    expect(JSON.parse(r.body.toString()).headers['x-forwarded-for']).toBeUndefined();
  });

  it('always sends the request to the configured target, whatever the request target says', async () => {
    const r = await send(tunnel(), { target: '//evil.example/echo', headers: [['host', 'evil.example']] });
    // The app got it, with the request target unchanged, proving no other host was contacted.
    expect(r.status).toBe(200);
    expect(app.seen.map((s) => s.url)).toEqual(['//evil.example/echo']);
  });

  it('serves many concurrent requests on one connection', async () => {
    const conn = tunnel();
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => send(conn, { method: 'POST', target: '/echo', body: Buffer.from(`req ${i}`) })));
    replies.forEach((r, i) => expect(r.body.toString()).toBe(`req ${i}`));
  });

  it('hashes equal for a body sent as many small writes', async () => {
    const conn = tunnel();
    const parts = Array.from({ length: 200 }, (_, i) => Buffer.alloc(777, i));
    const r = await send(conn, { method: 'POST', target: '/sha', body: parts });
    const expected = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    expect(JSON.parse(r.body.toString()).sha).toBe(expected);
  });
});

describe('forwarder: the buffer budget', () => {
  /** How a stream ended for the viewer: its reset code, or 'end'. */
  function outcome(stream: Stream): Promise<string> {
    return new Promise((resolve) => {
      stream.on('reset', (err: ProtocolError) => resolve(err.code));
      stream.on('end', () => resolve('end'));
    });
  }

  it('resets the downloads a viewer stopped reading the longest (ERR_OVERLOADED) once they hold the budget, and serves a download that is read', async () => {
    const budget = createBufferBudget(MiB);
    const conn = tunnel({ budget });
    const stalled = Array.from({ length: 24 }, () => {
      const s = conn.open('http', { method: 'GET', target: '/bytes?blocks=8', headers: [['host', 'h']] }, { end: true });
      // Not reading: no credit goes back beyond the first window.
      s.pause();
      s.on('data', () => undefined);
      return { stream: s, outcome: outcome(s) };
    });
    const codes = new Map<Stream, string>();
    for (const d of stalled) void d.outcome.then((c) => codes.set(d.stream, c));
    await until(() => codes.size >= 8, { timeoutMs: 20_000, what: 'the budget to reset the stalled downloads held longest' });
    expect([...codes.values()].every((c) => c === 'ERR_OVERLOADED')).toBe(true);
    expect(budget.total()).toBeLessThanOrEqual(budget.limit);
    // A download that is read moves, so it never holds for long: it completes.
    const fresh = conn.open('http', { method: 'GET', target: '/bytes?blocks=16', headers: [['host', 'h']] }, { end: true });
    expect((await responseOf(fresh)).status).toBe(200);
    expect((await bodyOf(fresh, true)).sha256).toBe(blocksSha256(16));
  });

  it('answers 503 to the upload an app has not read the longest once stalled uploads hold the budget', async () => {
    const budget = createBufferBudget(2 * MiB);
    const conn = tunnel({ budget });
    const uploads = Array.from({ length: 4 }, () => {
      const s = conn.open('http', {
        method: 'POST',
        target: '/hang',
        headers: [
          ['host', 'h'],
          ['content-length', String(32 * MiB)],
        ],
      });
      const head = responseOf(s);
      head.catch(() => undefined);
      void writeBody(
        s,
        Array.from({ length: 32 }, () => BLOCK),
      ).catch(() => undefined);
      return head;
    });
    const first = await uploads[0]!;
    expect(first.status).toBe(503);
    expect(budget.total()).toBeLessThanOrEqual(budget.limit);
    expect(log).toContainEqual(expect.objectContaining({ target: '/hang', status: 503, error: 'ERR_OVERLOADED' }));
  });
});

describe('forwarder: connections to the app', () => {
  it(`carries a wave of requests at once over at most ${UPSTREAM_CONNECTIONS} connections`, async () => {
    const conn = tunnel({}, 'p2p');
    const wave = 4 * UPSTREAM_CONNECTIONS;
    const replies = await Promise.all(
      Array.from({ length: wave }, (_, i) => send(conn, { method: 'POST', target: `/echo?m=${i}`, body: Buffer.from(`module ${i}`) })),
    );
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: wave }, () => 200));
    expect(replies.map((r) => r.body.toString())).toEqual(Array.from({ length: wave }, (_, i) => `module ${i}`));
    expect(app.seen).toHaveLength(wave);
    expect(app.connections()).toBeGreaterThan(1);
    expect(app.connections()).toBeLessThanOrEqual(UPSTREAM_CONNECTIONS);
  });

  it('gives the next request a connection of its own while responses that do not end hold every shared one', async () => {
    const conn = tunnel({}, 'p2p');
    const ended: string[] = [];
    const streams: Stream[] = [];
    for (let i = 0; i < UPSTREAM_CONNECTIONS; i++) {
      const s = conn.open('http', { method: 'GET', target: `/sse?n=${i}`, headers: [['host', 'h']] }, { end: true });
      s.on('end', () => ended.push(`sse ${i}`));
      s.on('data', () => undefined);
      streams.push(s);
    }
    const heads = await Promise.all(streams.map(responseOf));
    expect(heads.every((h) => header(h.headers, 'content-type') === 'text/event-stream')).toBe(true);
    const r = await send(conn, { target: '/echo' });
    ended.push('echo');
    expect(r.status).toBe(200);
    // The app's event streams end when released (or after 10 s): the echo came first.
    app.releaseSse();
    await until(() => ended.length === UPSTREAM_CONNECTIONS + 1, { what: 'every event stream to end' });
    expect(ended[0]).toBe('echo');
    expect(app.connections()).toBe(UPSTREAM_CONNECTIONS + 1);
  });
});
