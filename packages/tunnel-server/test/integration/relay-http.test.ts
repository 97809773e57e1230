/**
 * HTTP through a real tunnel server (port 0) and a real test agent speaking
 * the wire protocol over its WebSocket.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_ACCEPT_MESSAGE_BYTES } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { createFixture, type Fixture } from './helpers/fixture-handler';
import { send } from './helpers/http-client';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';
import { withTimeout } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let server: TunnelServer;
let fixture: Fixture;
let agent: TestAgent;

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent' });
  fixture = createFixture();
  agent = await connectTestAgent(server.port, fixture.handler);
});

afterEach(async () => {
  closeAllAgents();
  await server.close();
});

describe('HTTP relay', () => {
  it('answers a readable 404 page for an unknown session', async () => {
    const id = 'a'.repeat(26);
    const r = await send(server.port, `${id}.localhost:${server.port}`);
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body.toString()).toContain(`No Wingman session ${id} here`);
    expect(r.body.toString()).toContain('<code>wingman http &#60;port&#62;</code>');
  });

  it('treats a host that is not a session id as an unknown session', async () => {
    const r = await send(server.port, `www.localhost:${server.port}`);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain('No Wingman session www here');
  });

  it('relays a GET with the transport header, matching the host case-insensitively', async () => {
    const r = await send(server.port, agent.host.toUpperCase(), { path: '/hello?x=1' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET');
    expect(r.headers['x-wingman-transport']).toBe('relay');
    expect(fixture.heads[0]!.target).toBe('/hello?x=1');
  });

  it('relays a 2 MiB POST body and its echo byte for byte', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    const r = await send(server.port, agent.host, { method: 'POST', path: '/echo', body });
    expect(r.status).toBe(200);
    expect(r.headers['x-wingman-transport']).toBe('relay');
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('relays both ways with an agent that packs up to WEBSOCKET_ACCEPT_MESSAGE_BYTES per message', async () => {
    const big = await connectTestAgent(server.port, fixture.handler, { maxMessageBytes: WEBSOCKET_ACCEPT_MESSAGE_BYTES });
    const body = randomBytes(2 * 1024 * 1024);
    const r = await send(server.port, big.host, { method: 'POST', path: '/echo', body });
    expect(r.status).toBe(200);
    expect(createHash('sha256').update(r.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('relays a chunked request body', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: '/echo', headers: { host: agent.host }, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts)));
      });
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(`chunk ${i};`);
      req.end();
    });
    expect(reply.toString()).toBe('chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;');
    expect(fixture.heads[0]!.headers.find(([n]) => n === 'transfer-encoding')).toBeUndefined();
  });

  it('relays HEAD with its headers and no body', async () => {
    const r = await send(server.port, agent.host, { method: 'HEAD', path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.headers['x-method']).toBe('HEAD');
    expect(r.headers['content-length']).toBe(String('hello HEAD'.length));
    expect(r.body.length).toBe(0);
  });

  it('relays a 204 without a body', async () => {
    const r = await send(server.port, agent.host, { path: '/empty' });
    expect(r.status).toBe(204);
    expect(r.body.length).toBe(0);
    expect(r.headers['x-wingman-transport']).toBe('relay');
  });

  it('adds X-Forwarded-* and drops hop-by-hop request fields', async () => {
    await send(server.port, agent.host, {
      path: '/hello',
      headers: {
        connection: 'x-private',
        'x-private': '1',
        'keep-alive': 'timeout=1',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'gopher',
        cookie: 'c=1',
      },
    });
    const h = new Map(fixture.heads[0]!.headers);
    expect(h.get('x-forwarded-for')).toBe('203.0.113.9, 127.0.0.1');
    expect(h.get('x-forwarded-proto')).toBe('http');
    expect(h.get('x-forwarded-host')).toBe(agent.host);
    expect(h.get('host')).toBe(agent.host);
    expect(h.get('cookie')).toBe('c=1');
    for (const name of ['connection', 'x-private', 'keep-alive']) expect(h.has(name)).toBe(false);
  });

  it('drops hop-by-hop response fields, keeps repeated ones, and overwrites X-Wingman-Transport', async () => {
    const r = await send(server.port, agent.host, { path: '/hop' });
    expect(r.status).toBe(200);
    expect(r.headers['x-secret']).toBeUndefined();
    expect(r.headers['keep-alive']).toBeUndefined();
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(r.headers['x-wingman-transport']).toBe('relay');
  });

  it('delivers the first SSE event before the response ends', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/sse', headers: { host: agent.host }, agent: false }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        expect(res.headers['x-wingman-transport']).toBe('relay');
        res.once('data', (c: Buffer) => {
          resolve(c.toString());
          // Only now may the response end: the event above arrived while it was open.
          fixture.releaseSse();
          res.resume();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(first).toContain('data: first');
  });

  it('resets the agent stream when the viewer aborts', async () => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no partial body')), 5_000);
      const req = request({ host: '127.0.0.1', port: server.port, path: '/hang', headers: { host: agent.host }, agent: false }, (res) => {
        res.once('data', () => {
          clearTimeout(timer);
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    const reset = await fixture.waitForReset('/hang');
    expect(reset.code).toBe('ERR_CANCEL');
  });

  it('closes an HTTP/1.1 connection after a response the app sent before the whole upload came, instead of reading the rest', async () => {
    // The upload declares 1 GiB and sends 1 MiB; the app (/hello) answers without reading it.
    const socket = connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.write(`POST /hello HTTP/1.1\r\nHost: ${agent.host}\r\nContent-Length: ${1024 ** 3}\r\n\r\n`);
    socket.write(Buffer.alloc(1024 * 1024, 0x41));
    await withTimeout(closed, { timeoutMs: 10_000, what: 'the server to close the connection after its early answer' });
    expect(reply).toMatch(/^HTTP\/1\.1 200 /);
    expect(reply.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(reply.endsWith('hello POST')).toBe(true);
  });

  it.each([
    ['ERR_UPSTREAM_TIMEOUT', 504],
    ['ERR_UPSTREAM_UNREACHABLE', 502],
    ['ERR_TOO_MANY_STREAMS', 503],
  ])('turns an agent reset %s before the head into a %i page', async (code, status) => {
    const r = await send(server.port, agent.host, { path: `/reset/${code}` });
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body.toString()).toContain(code);
  });

  it('answers 431 when the request has more header fields than the wire carries', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 300; i++) headers[`x-h${i}`] = 'v';
    const r = await send(server.port, agent.host, { path: '/hello', headers });
    expect(r.status).toBe(431);
    expect(r.body.toString()).toContain('ERR_TOO_MANY_HEADERS');
    expect(fixture.heads).toHaveLength(0);
  });

  it('answers 431 when the request headers exceed the server limit', async () => {
    const r = await send(server.port, agent.host, { path: '/hello', headers: { 'x-big': 'b'.repeat(20_000) } });
    expect(r.status).toBe(431);
    expect(fixture.heads).toHaveLength(0);
  });

  it('keeps reserved paths on session hosts away from the app', async () => {
    const r = await send(server.port, agent.host, { path: '/__wingman/anything' });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString())).toMatchObject({ error: 'ERR_NOT_FOUND' });
    expect(fixture.heads).toHaveLength(0);
  });
});

describe('apex host', () => {
  it('answers /healthz with the session count', async () => {
    const r = await send(server.port, `localhost:${server.port}`, { path: '/healthz' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({ ok: true, sessions: 1 });
  });

  it('serves a landing page and Prometheus metrics', async () => {
    await send(server.port, agent.host, { path: '/hello' });
    const landing = await send(server.port, `127.0.0.1:${server.port}`);
    expect(landing.status).toBe(200);
    expect(landing.body.toString()).toContain('Wingman tunnel server');
    const metrics = await send(server.port, `localhost:${server.port}`, { path: '/metrics' });
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toMatch(/wingman_relay_requests_total\{kind="http"\} 1/);
    expect(metrics.body.toString()).toMatch(/wingman_sessions\{state="live"\} 1/);
  });
});
