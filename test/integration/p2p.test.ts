/**
 * P2P between a Node viewer (@roamhq/wrtc) and the agent
 * process, signaled through the real tunnel server process, on loopback with
 * no STUN. Runs inside the loopback-only namespace `npm test` creates.
 */
import { createHash } from 'node:crypto';

import WebSocket from 'ws';
import type { Connection } from '@wingman/protocol';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import { patternBlock, patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, runWingmanFetch, startAgent, startTunnel, type Tunnel } from '../helpers/processes';
import { delay, until, waitForEvent } from '../helpers/wait';

jest.setTimeout(120_000);
const MiB = 1024 * 1024;

let app: FixtureApp;
let t: Tunnel;
const viewers: P2PViewer[] = [];

async function viewer(url = t.url): Promise<P2PViewer> {
  const v = await connectP2PViewer({ url, timeoutMs: 20_000 });
  viewers.push(v);
  return v;
}

function get(conn: Connection, target: string) {
  return requestOver(conn, { method: 'GET', target, headers: [['host', t.host]] });
}

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await killAll();
  await app.close();
});

describe('P2P over a data channel (real wrtc peers, real processes)', () => {
  it('connects on loopback without STUN and serves GET with x-wingman-transport: p2p', async () => {
    const v = await viewer();
    expect(v.p2p.enabled).toBe(true);
    expect(v.p2p.iceServers).toEqual([]);
    const r = await get(v.connection, '/hello');
    expect(r.status).toBe(200);
    expect(r.header('x-wingman-transport')).toBe('p2p');
    expect((await r.bytes()).toString()).toBe('hello GET');
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected');
  });

  it('carries a 20 MiB upload and a 50 MiB download with equal SHA-256', async () => {
    const v = await viewer();
    const h = createHash('sha256');
    async function* body() {
      for (let i = 0; i < 320; i++) {
        const b = patternBlock(i);
        h.update(b);
        yield b;
      }
    }
    const up = await requestOver(v.connection, {
      method: 'POST',
      target: '/sha',
      headers: [
        ['host', t.host],
        ['content-length', String(20 * MiB)],
      ],
      body: body(),
    });
    expect(JSON.parse((await up.bytes()).toString())).toEqual({ sha: h.digest('hex'), length: 20 * MiB });

    const down = await get(v.connection, `/bytes?n=${50 * MiB}`);
    const dh = createHash('sha256');
    let n = 0;
    for await (const c of down.chunks()) {
      dh.update(c);
      n += c.length;
    }
    expect(n).toBe(50 * MiB);
    expect(dh.digest('hex')).toBe(patternSha256(50 * MiB));
  });

  it('delivers an SSE event before the response ends', async () => {
    const v = await viewer();
    const r = await get(v.connection, '/sse');
    const it = r.chunks()[Symbol.asyncIterator]();
    const first = await it.next();
    expect(Buffer.from(first.value as Uint8Array).toString()).toContain('data: first');
    app.releaseSse();
    const rest: Uint8Array[] = [];
    for (let x = await it.next(); !x.done; x = await it.next()) rest.push(x.value);
    expect(Buffer.concat(rest).toString()).toContain('data: second');
  });

  it('echoes WebSocket messages over the channel', async () => {
    const v = await viewer();
    const s = v.connection.open('ws', { method: 'GET', target: '/ws', headers: [['host', t.host]] });
    const head = await new Promise<{ status: number }>((r) => s.once('response', r));
    expect(head.status).toBe(101);
    const got: Array<[string, boolean]> = [];
    const done = new Promise<void>((r) =>
      s.on('message', (d, text) => {
        got.push([text ? Buffer.from(d).toString() : `${d.length} bytes`, text]);
        if (got.length === 2) r();
      }),
    );
    s.sendMessage('over p2p');
    s.sendMessage(new Uint8Array(MiB).fill(3));
    await done;
    expect(got).toEqual([
      ['over p2p', true],
      [`${MiB} bytes`, false],
    ]);
    s.closeWs(1000);
  });

  it('cancels the local request when the viewer resets the stream', async () => {
    const v = await viewer();
    const s = v.connection.open('http', { method: 'GET', target: '/hang', headers: [['host', t.host]] }, { end: true });
    await app.waitForRequest('/hang');
    s.reset('ERR_CANCEL');
    await app.waitForAborted('/hang');
    expect(app.aborted).toContain('/hang');
  });

  it('completes small requests while a 100 MiB download is in progress on the same connection', async () => {
    const v = await viewer();
    const big = await get(v.connection, `/bytes?n=${100 * MiB}`);
    let received = 0;
    let finished = false;
    const drain = (async () => {
      for await (const c of big.chunks()) {
        received += c.length;
        // A slow reader keeps the download in flight while the small requests run.
        if (received % (4 * MiB) < c.length) await delay(20);
      }
      finished = true;
    })();
    for (let i = 0; i < 20; i++) {
      const r = await get(v.connection, '/hello');
      expect((await r.bytes()).toString()).toBe('hello GET');
    }
    expect(finished).toBe(false);
    await drain;
    expect(received).toBe(100 * MiB);
  });

  it('frees the agent peer when the viewer closes', async () => {
    const v = await viewer();
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === v.viewerId);
    v.close();
    viewers.splice(viewers.indexOf(v), 1);
    const closed = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed' && e.viewerId === v.viewerId);
    expect(closed.viewerId).toBe(v.viewerId);
  });

  it('reaches only the agent of the session it signals', async () => {
    const other = await startFixtureApp();
    try {
      const { url: otherUrl } = await startAgent(`http://localhost:${t.serverPort}`, String(other.port), {}, ['--new-session']);
      const vx = await viewer();
      const vy = await viewer(otherUrl);
      const rx = await requestOver(vx.connection, { target: '/hello', headers: [['host', t.host]] });
      const ry = await requestOver(vy.connection, { target: '/hello', headers: [['host', new URL(otherUrl).host]] });
      expect(rx.header('x-host')).toBe(`localhost:${app.port}`);
      expect(ry.header('x-host')).toBe(`localhost:${other.port}`);
      // A viewer cannot name another session: unknown fields are refused.
      const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/__wingman/signal`, { headers: { host: t.host } });
      const msgs: Array<{ type: string; code?: string }> = [];
      ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
      await waitForEvent(ws, 'open', { failOn: ['error'] });
      const errorMessage = waitForEvent(ws, 'message', {
        filter: (d) => JSON.parse(d.toString()).type === 'error',
        timeoutMs: 5_000,
        what: 'an error message on the signaling socket',
      });
      ws.send(JSON.stringify({ type: 'offer', sdp: 'v=0', sessionId: new URL(otherUrl).hostname.split('.')[0] }));
      await errorMessage;
      expect(msgs.find((m) => m.type === 'error')?.code).toBe('ERR_INVALID_SIGNAL');
      ws.close();
    } finally {
      await other.close();
    }
  });

  it('answers malformed and oversized signaling with coded errors without disturbing another viewer', async () => {
    const good = await viewer();
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/__wingman/signal`, { headers: { host: t.host } });
    const msgs: Array<{ type: string; code?: string }> = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send('{not json');
    ws.send(JSON.stringify({ type: 'ice-candidate', candidate: { candidate: 5 } }));
    ws.send(JSON.stringify({ type: 'offer', sdp: 'x'.repeat(40_000) }));
    expect(await closed).toBe(1009);
    expect(msgs.filter((m) => m.type === 'error').map((m) => m.code)).toEqual(['ERR_INVALID_SIGNAL', 'ERR_INVALID_SIGNAL', 'ERR_MESSAGE_TOO_LARGE']);
    const r = await get(good.connection, '/hello');
    expect(r.header('x-wingman-transport')).toBe('p2p');
    await r.bytes();
  });

  it('counts P2P successes and connect times in /metrics', async () => {
    await viewer();
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected');
    // The server counts a success when the agent reports it over the control channel: nothing to await but the metric.
    let text = '';
    await until(
      async () => {
        text = (await send(t.serverPort, `localhost:${t.serverPort}`, { path: '/metrics' })).body.toString();
        return /wingman_p2p_successes_total 1/.test(text);
      },
      {
        timeoutMs: 5_000,
        intervalMs: 100,
        what: 'wingman_p2p_successes_total 1 in /metrics',
        observe: () =>
          text
            .split('\n')
            .filter((l) => l.startsWith('wingman_p2p'))
            .join('; '),
      },
    );
    expect(text).toMatch(/wingman_p2p_successes_total 1/);
    expect(text).toMatch(/wingman_p2p_connect_seconds_count 1/);
  });
});

describe('wingman fetch', () => {
  it('fetches a session URL peer-to-peer and says so, then over the relay with --relay-only', async () => {
    const run = runWingmanFetch;
    const p2p = await run([`${t.url}hello`]);
    expect(p2p).toMatchObject({ code: 0, out: 'hello GET' });
    expect(p2p.err).toMatch(/200 via p2p/);
    const relay = await run(['--relay-only', `${t.url}hello`]);
    expect(relay).toMatchObject({ code: 0, out: 'hello GET' });
    expect(relay.err).toMatch(/200 via relay/);
  });
});

describe('P2P switched off', () => {
  afterEach(async () => {
    await killAll();
  });

  async function expectRelayOnly(tunnel: Tunnel) {
    await expect(connectP2PViewer({ url: tunnel.url, timeoutMs: 10_000 })).rejects.toThrow(/P2P/);
    const info = JSON.parse((await send(tunnel.serverPort, tunnel.host, { path: '/__wingman/session' })).body.toString());
    expect(info.p2p.enabled).toBe(false);
    const r = await send(tunnel.serverPort, tunnel.host, { path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.headers['x-wingman-transport']).toBe('relay');
  }

  it('by the server flag P2P_ENABLED=false', async () => {
    await killAll();
    const tunnel = await startTunnel(String(app.port), { serverEnv: { P2P_ENABLED: 'false' } });
    expect(tunnel.agent.events[0]!.p2p).toBe(false);
    await expectRelayOnly(tunnel);
  });

  it('by the agent flag --no-p2p', async () => {
    await killAll();
    const tunnel = await startTunnel(String(app.port), { agentArgs: ['--no-p2p'] });
    expect(tunnel.agent.events[0]!.p2p).toBe(false);
    await expectRelayOnly(tunnel);
  });

  it('by the agent environment WINGMAN_P2P=0', async () => {
    await killAll();
    const tunnel = await startTunnel(String(app.port), { agentEnv: { WINGMAN_P2P: '0' } });
    await expectRelayOnly(tunnel);
  });
});
