/**
 * The bench's mux floor (scripts/bench/mux-floor/): its server and agent as
 * real processes, an app in this process, HTTP requests from here. Bodies must
 * cross intact both ways, keep-alive connections to the app must be reused,
 * and a stream that ends mid-way must leave both processes serving.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { spawnReady, stopAll, type ManagedProcess } from '../../scripts/lib/spawn-ready.mjs';
import { until } from '../../scripts/lib/wait.mjs';

jest.setTimeout(60_000);

const FLOOR_DIR = join(__dirname, '..', '..', 'scripts', 'bench', 'mux-floor');
const MIB = 1024 * 1024;
const BLOCK = Buffer.alloc(64 * 1024, 0x5a);
/** An endless answer stops here whatever happens: bounds the test. */
const ENDLESS_MAX_BYTES = 512 * MIB;

/** Bodies the app serves by name; each GET /body/<name> answers one. */
const bodies = new Map<string, Buffer>();
let appConnections = 0;
let openAppConnections = 0;
const appSockets = new Set<import('node:net').Socket>();

const app = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/echo') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      res.end(body);
    });
    return;
  }
  if (url.startsWith('/body/')) {
    const body = bodies.get(url.slice('/body/'.length));
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    return void res.end(body);
  }
  if (url === '/endless') {
    // Chunked and never finished by the app: only the viewer going away ends it.
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    let sent = 0;
    const pump = () => {
      while (sent < ENDLESS_MAX_BYTES) {
        sent += BLOCK.length;
        if (!res.write(BLOCK)) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (sent = ENDLESS_MAX_BYTES));
    return pump();
  }
  if (url === '/cut') {
    // Announces 1 MiB, sends 100 KiB, then drops the connection.
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(MIB) });
    res.write(Buffer.alloc(100 * 1024, 0x41), () => res.socket?.destroy());
    return;
  }
  res.writeHead(404).end();
});
app.on('connection', (socket) => {
  appConnections++;
  openAppConnections++;
  appSockets.add(socket);
  socket.on('close', () => {
    openAppConnections--;
    appSockets.delete(socket);
  });
});

let server: ManagedProcess;
let agent: ManagedProcess;
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appPort = (app.address() as AddressInfo).port;
  const s = await spawnReady({
    name: 'mux floor server',
    command: process.execPath,
    args: [join(FLOOR_DIR, 'server.mjs')],
    ready: 'listening',
    ownProcessGroup: false,
  });
  server = s.proc;
  port = Number(s.ready.port);
  const a = await spawnReady({
    name: 'mux floor agent',
    command: process.execPath,
    args: [join(FLOOR_DIR, 'agent.mjs'), String(port), String(appPort)],
    ready: 'ready',
    ownProcessGroup: false,
  });
  agent = a.proc;
});

afterAll(async () => {
  await stopAll();
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
});

interface Answer {
  status: number;
  body: Buffer;
}

/** One request through the floor; resolves with the whole answer. */
function request(method: string, path: string, options: { body?: Buffer; agent?: http.Agent } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = options.body ? { 'content-length': String(options.body.length) } : {};
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`${path}: answer aborted`)));
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`${path}: no answer within 20 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

function expectAlive(): void {
  expect(server.isRunning()).toBe(true);
  expect(agent.isRunning()).toBe(true);
}

describe('the mux floor', () => {
  it('answers GETs with the exact bytes, reusing one keep-alive connection to the app', async () => {
    bodies.set('big', randomBytes(3 * MIB + 17));
    bodies.set('small', randomBytes(1024));
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = appConnections;
    try {
      const big = await request('GET', '/body/big', { agent: keepAlive });
      expect(big.status).toBe(200);
      expect(big.body.equals(bodies.get('big')!)).toBe(true);
      for (let i = 0; i < 5; i++) {
        const small = await request('GET', '/body/small', { agent: keepAlive });
        expect(small.body.equals(bodies.get('small')!)).toBe(true);
      }
    } finally {
      keepAlive.destroy();
    }
    expect(appConnections - before).toBe(1);
  });

  it('drops a kept-alive stream the app closes while idle, and answers the next request on a new one', async () => {
    bodies.set('idle', randomBytes(4096));
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await request('GET', '/body/idle', { agent: keepAlive })).body.equals(bodies.get('idle')!)).toBe(true);
      await until(() => appSockets.size === 1 || undefined, { what: 'one idle app connection', timeoutMs: 5_000 });
      for (const s of appSockets) s.end();
      await until(() => openAppConnections === 0 || undefined, { what: 'the idle app connection to close', timeoutMs: 5_000 });
      const before = appConnections;
      expect((await request('GET', '/body/idle', { agent: keepAlive })).body.equals(bodies.get('idle')!)).toBe(true);
      expect(appConnections - before).toBe(1);
    } finally {
      keepAlive.destroy();
    }
  });

  it('carries a 1 MiB POST body to the app and its echo back, byte for byte', async () => {
    const body = randomBytes(MIB);
    const r = await request('POST', '/echo', { body });
    expect(r.status).toBe(200);
    expect(r.body.equals(body)).toBe(true);
  });

  it('keeps 50 concurrent requests apart', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
    for (const n of names) bodies.set(n, randomBytes(64 * 1024 + names.indexOf(n)));
    const answers = await Promise.all(names.map((n) => request('GET', `/body/${n}`)));
    answers.forEach((r, i) => expect(r.body.equals(bodies.get(names[i])!)).toBe(true));
  });

  it('closes the app connection of a viewer that leaves mid-answer, and keeps serving', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/endless', agent: false }, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got >= 2 * MIB) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    });
    await until(() => openAppConnections === 0 || undefined, { what: 'the app connection of the abandoned stream to close', timeoutMs: 10_000 });
    expectAlive();
    bodies.set('after-abort', randomBytes(10_000));
    expect((await request('GET', '/body/after-abort')).body.equals(bodies.get('after-abort')!)).toBe(true);
  });

  it('ends the viewer answer when the app drops its connection mid-answer, and keeps serving', async () => {
    await expect(request('GET', '/cut')).rejects.toThrow();
    expectAlive();
    bodies.set('after-cut', randomBytes(10_000));
    const r = await request('GET', '/body/after-cut');
    expect(r.body.equals(bodies.get('after-cut')!)).toBe(true);
    expectAlive();
  });
});
