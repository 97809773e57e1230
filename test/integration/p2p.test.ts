/**
 * P2P between a Node viewer (@roamhq/wrtc, in a child process of its own:
 * test/helpers/p2p-viewer-process.ts) and the agent process, signaled
 * through the real tunnel server process, on loopback with no STUN. Runs
 * inside the loopback-only namespace `npm test` creates.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import WebSocket from 'ws';
import { patternBlock, patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewerProcesses, closeViewersAndProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, runWingmanFetch, startAgent, startTunnel, type Tunnel } from '../helpers/processes';
import { until, waitForEvent } from '../helpers/wait';

jest.setTimeout(120_000);
const MiB = 1024 * 1024;

let app: FixtureApp;
/** The file's app, and a tunnel to it that every test shares unless it starts one of its own. */
let shared: Tunnel;
/** The tunnel a test's viewers go to: `shared`, or the test's own. */
let t: Tunnel;

function viewer(url = t.url): Promise<ViewerProcess> {
  return connectViewerProcess({ url, timeoutMs: 20_000 });
}

function get(v: ViewerProcess, target: string) {
  return v.request({ method: 'GET', target, headers: [['host', t.host]] });
}

beforeAll(async () => {
  app = await startFixtureApp();
  shared = await startTunnel(String(app.port), { agentEnv: { WINGMAN_STATE_DIR: join(tmpdir(), `wingman-p2p-shared-${process.pid}`) } });
});

beforeEach(() => {
  t = shared;
});

// Each test's viewers, and what it started besides the shared tunnel.
afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll([shared.server, shared.agent]);
  }
});

afterAll(() => closeViewersAndProcesses(app));

describe('P2P over a data channel (real wrtc peers, real processes)', () => {
  it('connects on loopback without STUN and serves GET with x-wingman-transport: p2p', async () => {
    const v = await viewer();
    expect(v.facts?.p2p.enabled).toBe(true);
    expect(v.facts?.p2p.iceServers).toEqual([]);
    const r = await get(v, '/hello');
    expect(r.status).toBe(200);
    expect(r.header('x-wingman-transport')).toBe('p2p');
    expect(r.body.toString()).toBe('hello GET');
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === v.viewerId);
  });

  it('carries a 20 MiB upload and a 50 MiB download with equal SHA-256', async () => {
    const v = await viewer();
    const body = Buffer.concat(Array.from({ length: 320 }, (_, i) => patternBlock(i)));
    const up = await v.request({
      method: 'POST',
      target: '/sha',
      headers: [
        ['host', t.host],
        ['content-length', String(20 * MiB)],
      ],
      body,
    });
    expect(JSON.parse(up.body.toString())).toEqual({ sha: createHash('sha256').update(body).digest('hex'), length: 20 * MiB });

    // Hashed in the viewer's process: the 50 MiB stay there.
    const down = await v.requestDigest({ method: 'GET', target: `/bytes?n=${50 * MiB}`, headers: [['host', t.host]] });
    expect(down.length).toBe(50 * MiB);
    expect(down.sha256).toBe(patternSha256(50 * MiB));
  });

  it('delivers an SSE event before the response ends', async () => {
    const v = await viewer();
    const r = await v.requestStreaming({ method: 'GET', target: '/sse', headers: [['host', t.host]] });
    const first = await r.next();
    expect(first?.toString()).toContain('data: first');
    app.releaseSse();
    expect((await r.bytes()).toString()).toContain('data: second');
  });

  it('echoes WebSocket messages over the channel', async () => {
    const v = await viewer();
    const s = await v.openStream('ws', { method: 'GET', target: '/ws', headers: [['host', t.host]] });
    const head = await s.response();
    expect(head.status).toBe(101);
    await s.sendMessage('over p2p');
    await s.sendMessage(new Uint8Array(MiB).fill(3));
    const got: Array<[string, boolean]> = [];
    for (let i = 0; i < 2; i++) {
      const { data, text } = await s.nextMessage();
      got.push([text ? data.toString() : `${data.length} bytes`, text]);
    }
    expect(got).toEqual([
      ['over p2p', true],
      [`${MiB} bytes`, false],
    ]);
    await s.closeWs(1000);
  });

  it('cancels the local request when the viewer resets the stream', async () => {
    const v = await viewer();
    const s = await v.openStream('http', { method: 'GET', target: '/hang', headers: [['host', t.host]] }, { end: true });
    await app.waitForRequest('/hang');
    await s.reset('ERR_CANCEL');
    await app.waitForAborted('/hang');
    expect(app.aborted).toContain('/hang');
  });

  it('completes small requests while a 100 MiB download is in progress on the same connection', async () => {
    const v = await viewer();
    const big = await v.requestStreaming({ method: 'GET', target: `/bytes?n=${100 * MiB}`, headers: [['host', t.host]] });
    let finished = false;
    // A slow reader keeps the download in flight while the small requests run.
    const drain = big.drain({ pauseEveryBytes: 4 * MiB, pauseMs: 20 }).then((d) => {
      finished = true;
      return d;
    });
    drain.catch(() => undefined); // awaited below
    for (let i = 0; i < 20; i++) {
      const r = await get(v, '/hello');
      expect(r.body.toString()).toBe('hello GET');
    }
    expect(finished).toBe(false);
    expect((await drain).length).toBe(100 * MiB);
  });

  it('frees the agent peer when the viewer closes', async () => {
    const v = await viewer();
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === v.viewerId);
    await v.close();
    const closed = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'closed' && e.viewerId === v.viewerId);
    expect(closed.viewerId).toBe(v.viewerId);
  });

  it('reaches only the agent of the session it signals', async () => {
    const other = await startFixtureApp();
    try {
      const { url: otherUrl } = await startAgent(`http://localhost:${t.serverPort}`, String(other.port), {}, ['--new-session']);
      const vx = await viewer();
      const vy = await viewer(otherUrl);
      const rx = await vx.request({ target: '/hello', headers: [['host', t.host]] });
      const ry = await vy.request({ target: '/hello', headers: [['host', new URL(otherUrl).host]] });
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
    const r = await get(good, '/hello');
    expect(r.header('x-wingman-transport')).toBe('p2p');
  });

  it('counts P2P successes and connect times in /metrics', async () => {
    // A server of its own: the shared one counted the other tests' viewers.
    t = await startTunnel(String(app.port), { agentEnv: { WINGMAN_STATE_DIR: join(tmpdir(), `wingman-p2p-metrics-${process.pid}`) } });
    const v = await viewer();
    await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === v.viewerId);
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

/** Each test starts the agent it needs: on a server of its own for a server-wide switch, else on the shared one. */
describe('P2P switched off', () => {
  async function expectRelayOnly(tunnel: Tunnel) {
    await expect(connectViewerProcess({ url: tunnel.url, timeoutMs: 10_000 })).rejects.toThrow(/P2P/);
    const info = JSON.parse((await send(tunnel.serverPort, tunnel.host, { path: '/__wingman/session' })).body.toString());
    expect(info.p2p.enabled).toBe(false);
    const r = await send(tunnel.serverPort, tunnel.host, { path: '/hello' });
    expect(r.status).toBe(200);
    expect(r.headers['x-wingman-transport']).toBe('relay');
  }

  it('by the server flag P2P_ENABLED=false', async () => {
    const tunnel = await startTunnel(String(app.port), { serverEnv: { P2P_ENABLED: 'false' } });
    expect(tunnel.agent.events[0]!.p2p).toBe(false);
    await expectRelayOnly(tunnel);
  });

  /** An agent with `args` and `env` on the shared tunnel's server (a session of its own). */
  async function agentOnSharedServer(args: string[], env: Record<string, string> = {}): Promise<Tunnel> {
    const started = await startAgent(`http://localhost:${shared.serverPort}`, String(app.port), env, ['--new-session', ...args]);
    return { ...shared, ...started, host: new URL(started.url).host };
  }

  it('by the agent flag --no-p2p', async () => {
    const tunnel = await agentOnSharedServer(['--no-p2p']);
    expect(tunnel.agent.events[0]!.p2p).toBe(false);
    await expectRelayOnly(tunnel);
  });

  it('by the agent environment WINGMAN_P2P=0', async () => {
    const tunnel = await agentOnSharedServer([], { WINGMAN_P2P: '0' });
    await expectRelayOnly(tunnel);
  });
});
