/**
 * The relay tunnel end to end through real processes on loopback:
 * wingman-server and `wingman http` as child processes, a real local app.
 *
 * @solo its bounds are on the processes' peak RSS, which counts garbage not yet collected:
 *   how much waits depends on the CPU the process gets, so a test file beside it moves the peak.
 */
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import WebSocket from 'ws';
import { startFixtureApp, patternBlock, patternSha256, type FixtureApp } from '../helpers/fixture-app';
import { download, send } from '../helpers/http-client';
import { killAll, startAgent, startTunnel, type Tunnel } from '../helpers/processes';
import { delay } from '../helpers/wait';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
let app: FixtureApp;
let t: Tunnel;

async function startAll(): Promise<void> {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
}

async function stopAll(): Promise<void> {
  await killAll();
  await app.close();
}

/** Tests that leave the app, the server and the agent as they found them share one of each. */
describe('relay tunnel (real processes)', () => {
  beforeAll(startAll);
  afterAll(stopAll);

  it('prints a session URL on localhost with a DNS-label session id of 130 bits', () => {
    expect(t.sessionId).toMatch(/^[a-z2-7]{26}$/);
    expect(t.url).toBe(`http://${t.sessionId}.localhost:${t.serverPort}/`);
  });

  it.each(['GET', 'POST', 'PUT', 'DELETE'])('relays %s with the transport header', async (method) => {
    const r = await send(t.serverPort, t.host, { method, path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe(`hello ${method}`);
    expect(r.headers['x-method']).toBe(method);
    expect(r.headers['x-wingman-transport']).toBe('relay');
  });

  it('relays HEAD without a body', async () => {
    const r = await send(t.serverPort, t.host, { method: 'HEAD', path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(0);
    expect(r.headers['x-method']).toBe('HEAD');
  });

  it('echoes request bodies, chunked and with content-length', async () => {
    const body = Buffer.from('x'.repeat(100_000));
    const fixed = await send(t.serverPort, t.host, { method: 'POST', path: '/echo', body });
    expect(fixed.body.equals(body)).toBe(true);
    const chunked = await send(t.serverPort, t.host, {
      method: 'PUT',
      path: '/echo',
      body: async (write) => {
        for (let i = 0; i < 10; i++) await write(body.subarray(i * 10_000, (i + 1) * 10_000));
      },
    });
    expect(chunked.body.equals(body)).toBe(true);
  });

  it('downloads 100 MiB with an equal SHA-256', async () => {
    const r = await download(t.serverPort, t.host, `/bytes?n=${100 * MiB}`);
    expect(r.status).toBe(200);
    expect(r.length).toBe(100 * MiB);
    expect(r.sha).toBe(patternSha256(100 * MiB));
  });

  it('uploads 20 MiB with an equal SHA-256', async () => {
    const h = createHash('sha256');
    const r = await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/sha',
      body: async (write) => {
        for (let i = 0; i < 320; i++) {
          const b = patternBlock(i);
          h.update(b);
          await write(b);
        }
      },
    });
    expect(JSON.parse(r.body.toString())).toEqual({ sha: h.digest('hex'), length: 20 * MiB });
  });

  it('delivers an SSE event before the response ends', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: t.serverPort, path: '/sse', headers: { host: t.host } }, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.once('data', (c: Buffer) => {
          resolve(c.toString());
          app.releaseSse();
          res.resume();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(first).toContain('data: first');
  });

  it('echoes WebSocket text and binary messages, including 1 MiB', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/ws`, { headers: { host: t.host } });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    const replies: Array<{ data: Buffer; binary: boolean }> = [];
    const done = new Promise<void>((r) =>
      ws.on('message', (data: Buffer, binary) => {
        replies.push({ data, binary });
        if (replies.length === 2) r();
      }),
    );
    const big = patternBlock(7).subarray(0, 65536);
    const mib = Buffer.concat(Array.from({ length: 16 }, () => big));
    ws.send('hello over the tunnel');
    ws.send(mib);
    await done;
    expect(replies[0]).toEqual({ data: Buffer.from('hello over the tunnel'), binary: false });
    expect(replies[1]!.binary).toBe(true);
    expect(replies[1]!.data.equals(mib)).toBe(true);
    ws.close();
  });

  it('serves 200 concurrent requests', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send(t.serverPort, t.host, { method: 'POST', path: '/echo', body: Buffer.from(`req ${i}`), agent })),
    );
    agent.destroy();
    replies.forEach((r, i) => expect(r.body.toString()).toBe(`req ${i}`));
  });

  it('cancels the local request when the viewer aborts', async () => {
    const req = request({ host: '127.0.0.1', port: t.serverPort, path: '/hang', headers: { host: t.host } });
    req.on('error', () => undefined);
    req.end();
    await app.waitForRequest('/hang');
    req.destroy();
    await app.waitForAborted('/hang');
    expect(app.aborted).toContain('/hang');
  });

  it('answers a readable 404 for an unknown session', async () => {
    const r = await send(t.serverPort, `aaaaaaaaaaaaaaaaaaaaaaaaaa.localhost:${t.serverPort}`, { path: '/' });
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/text\/html/);
  });
});

/** Tests that stop the app or the agent, or measure the processes' memory: each on its own. */
describe('relay tunnel (real processes), fresh processes per test', () => {
  beforeEach(startAll);
  afterEach(stopAll);

  it('answers a readable 502 when the local app is down', async () => {
    await app.close();
    const r = await send(t.serverPort, t.host, { path: '/hello' });
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.body.toString()).toMatch(/localhost:\d+/);
    app = await startFixtureApp(); // for afterEach
  });

  it('serves the same URL again after the agent process restarts', async () => {
    const serverUrl = `http://localhost:${t.serverPort}`;
    await t.agent.kill('SIGKILL');
    const again = await startAgent(serverUrl, String(app.port));
    expect(again.url).toBe(t.url);
    const r = await send(t.serverPort, t.host, { path: '/hello' });
    expect(r.status).toBe(200);
  });

  it('keeps server and agent memory bounded for a 256 MiB download to a slow reader', async () => {
    // Warm up first: the first megabytes of any stream grow V8's young generation and the
    // allocator's pools to their working size; the bound is on what grows with the transfer.
    const warm = await download(t.serverPort, t.host, `/bytes?n=${64 * MiB}`, () => undefined);
    expect(warm.length).toBe(64 * MiB);
    const before = { server: t.server.rssBytes(), agent: t.agent.rssBytes() };
    let peak = { ...before };
    const sample = setInterval(() => {
      peak = { server: Math.max(peak.server, t.server.rssBytes()), agent: Math.max(peak.agent, t.agent.rssBytes()) };
    }, 100);
    // A slow reader: ~150 MB/s with pauses, slower than the producer: a relay that buffered
    // what the reader has not taken would grow by far more than the bound over 256 MiB.
    let got = 0;
    const r = await download(t.serverPort, t.host, `/bytes?n=${256 * MiB}`, (n) => {
      got += n;
      if (got % (16 * MiB) < n) return delay(100);
    }).finally(() => clearInterval(sample));
    expect(r.length).toBe(256 * MiB);
    const growth = { server: (peak.server - before.server) / MiB, agent: (peak.agent - before.agent) / MiB };
    console.log(`RSS growth during 256 MiB relay download: server ${growth.server.toFixed(1)} MiB, agent ${growth.agent.toFixed(1)} MiB`);
    expect(growth.server).toBeLessThan(50);
    expect(growth.agent).toBeLessThan(50);
  });
});
