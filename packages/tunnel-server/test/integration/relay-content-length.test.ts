/**
 * A hostile agent whose body disagrees with its own Content-Length, seen by
 * a viewer over one real keep-alive TCP connection: the relay must deliver
 * exactly the declared bytes and close that connection, so excess bytes can
 * never become the answer to the viewer's next request.
 */
import { connect, type Socket } from 'node:net';
import type { Stream } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';

jest.setTimeout(30_000);

/** Excess crafted as a whole HTTP response: what a split would hand the next request. */
const SMUGGLED = 'HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nhijack!';
const EXCESS_BODY = `hello${SMUGGLED}`.padEnd(50, '.');

let server: TunnelServer;
let agent: TestAgent;

/** The hostile agent: /excess declares 5 bytes and sends 50; /short declares 50 and sends 5; /ok is honest. */
function hostile(stream: Stream): void {
  stream.on('end', () => undefined);
  const path = stream.head.target;
  const enc = (s: string) => new TextEncoder().encode(s);
  if (path === '/excess') {
    stream.respond({ status: 200, headers: [['content-length', '5']] });
    stream.write(enc(EXCESS_BODY));
  } else if (path === '/excess-late') {
    // The declared bytes first, the excess in a later chunk.
    stream.respond({ status: 200, headers: [['content-length', '5']] });
    stream.write(enc('hello'));
    setTimeout(() => {
      if (stream.closed) return;
      stream.write(enc(SMUGGLED));
      stream.end();
    }, 50);
    return;
  } else if (path === '/short') {
    stream.respond({ status: 200, headers: [['content-length', '50']] });
    stream.write(enc('hello'));
  } else if (path === '/conflict') {
    stream.respond({ status: 200, headers: [['content-length', '5'], ['content-length', '6']] });
    stream.write(enc('hello!'));
  } else {
    stream.respond({ status: 200, headers: [['content-length', '2']] });
    stream.write(enc('ok'));
  }
  stream.end();
}

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent' });
  agent = await connectTestAgent(server.port, hostile);
});

afterEach(async () => {
  closeAllAgents();
  await server.close();
});

/** Everything the server sends on one socket until it closes it (or `timeoutMs`, then the socket is cut and `closedByServer` is false). */
function exchange(port: number, requests: string[], gapMs = 0, timeoutMs = 3_000): Promise<{ bytes: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let bytes = '';
    let settled = false;
    const done = (closedByServer: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes, closedByServer });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d: Buffer) => (bytes += d.toString('latin1')));
    socket.on('end', () => done(true));
    socket.on('close', () => done(true));
    socket.on('error', (err) => (settled ? undefined : reject(err)));
    socket.once('connect', async () => {
      for (const r of requests) {
        if (socket.destroyed) break;
        socket.write(r);
        if (gapMs > 0) await new Promise((res) => setTimeout(res, gapMs));
      }
    });
  });
}

const get = (host: string, path: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`;

/** Splits raw bytes into responses: [head, body] pairs, bodies cut by their Content-Length. */
function responses(raw: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.slice(0, end);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ head, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

describe('relay enforces the agent\'s Content-Length on the viewer\'s connection', () => {
  it('delivers exactly the declared 5 bytes of a 50-byte body and closes the keep-alive connection before the next request', async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess'), get(agent.host, '/ok')], 300);
    expect(r.closedByServer).toBe(true);
    const parsed = responses(r.bytes);
    expect(parsed).toHaveLength(1);
    expect(parsed[0]!.head).toMatch(/^HTTP\/1\.1 200 /);
    expect(parsed[0]!.body).toBe('hello');
    expect(r.bytes).not.toContain('hijack');
    expect(r.bytes.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('gives a pipelined second request nothing of the first response\'s excess', async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess') + get(agent.host, '/ok')]);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).not.toContain('hijack');
    const parsed = responses(r.bytes);
    expect(parsed[0]!.body).toBe('hello');
    // Whatever else came is a genuine answer to /ok, never the smuggled one.
    for (const p of parsed.slice(1)) expect(p.body).toBe('ok');
  });

  it('drops excess that arrives in a later chunk and closes the connection', async () => {
    const r = await exchange(server.port, [get(agent.host, '/excess-late'), get(agent.host, '/ok')], 300);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).not.toContain('hijack');
    expect(responses(r.bytes).map((p) => p.body)).toEqual(['hello']);
  });

  it('closes the connection when the body is shorter than declared, instead of leaving the viewer waiting', async () => {
    const r = await exchange(server.port, [get(agent.host, '/short')]);
    expect(r.closedByServer).toBe(true);
    expect(r.bytes).toMatch(/^HTTP\/1\.1 200 /);
    expect(r.bytes.endsWith('\r\n\r\nhello')).toBe(true);
  });

  it('answers 502 to conflicting Content-Length values', async () => {
    const r = await exchange(server.port, [get(agent.host, '/conflict')], 0, 1_000);
    expect(r.bytes).toMatch(/^HTTP\/1\.1 502 /);
    expect(r.bytes).not.toContain('hello!');
  });

  it('keeps the connection open across honest responses', async () => {
    const r = await exchange(server.port, [get(agent.host, '/ok'), get(agent.host, '/ok')], 200, 1_000);
    expect(r.closedByServer).toBe(false);
    expect(responses(r.bytes).map((p) => p.body)).toEqual(['ok', 'ok']);
  });
});
