/**
 * Relayed WebSocket messages through real processes (wingman-server and
 * `wingman http` as children, a `ws` app and `ws` viewers in this process):
 * a message over the cap closes its WebSocket with 1009 on both legs and
 * nothing else; a gibibyte of messages at the cap keeps both processes'
 * memory bounded.
 *
 * @solo its bounds are on the processes' peak RSS, which counts garbage not yet collected:
 *   how much waits depends on the CPU the process gets, so a test file beside it moves the peak.
 */
import WebSocket from 'ws';
import { killAll, sampleRss, startTunnel, type Tunnel } from '../helpers/processes';
import { sendPaced, startWsApp, type WsApp } from '../helpers/ws-app';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
/** Over-cap WebSockets each way during the memory test (each 60 MiB message also costs this process its buffer). */
const HUGE_SOCKETS = 2;
/** The default cap (DEFAULT_WS_MESSAGE_LIMIT_BYTES): messages of exactly this size pass. */
const CAP = MiB;
/** An over-cap message, as large as the ones that took the old relay to 1.7 GB. */
const HUGE = 60 * MiB;
/**
 * Peak RSS growth allowed to the server and to the agent while the gibibyte crosses, MB. A Node process moving
 * 1 MiB buffers holds dead ones until a collection frees them: a bare loop making 1 MiB buffers with 8 MiB of them
 * alive peaks 39–41 MB above its start, and the relay's processes peaked 26–58 MB (58 once in 31 runs). Carrying the
 * over-cap messages whole goes far past it: with both caps raised to 64 MiB the server grew 402 MB and the agent 249
 * (the old relay, buffering the gibibyte, reached 1.7 GB).
 */
const RSS_GROWTH_MAX_MB = 100;
/** Each phase of a test waits at most this long. */
const PHASE_TIMEOUT_MS = 60_000;

let app: WsApp;
let t: Tunnel;
const viewers = new Set<WebSocket>();

beforeEach(async () => {
  app = await startWsApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--no-p2p'] });
});

afterEach(async () => {
  for (const ws of viewers) ws.terminate();
  viewers.clear();
  await killAll();
  await app.close();
});

/** Each viewer's close, recorded from its creation (an app may close it right after the upgrade). */
const closes = new WeakMap<WebSocket, Promise<{ code: number; reason: string }>>();

async function openViewer(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}${path}`, { headers: { host: t.host }, maxPayload: 128 * MiB });
  viewers.add(ws);
  ws.on('error', () => undefined);
  closes.set(ws, new Promise((r) => ws.once('close', (code, reason: Buffer) => r({ code, reason: reason.toString() }))));
  await within(new Promise((r, j) => (ws.once('open', r), ws.once('unexpected-response', () => j(new Error(`upgrade of ${path} refused`))))), `open ${path}`);
  return ws;
}

function within<T>(p: Promise<T>, what: string, ms = PHASE_TIMEOUT_MS): Promise<T> {
  return withTimeout(p, { timeoutMs: ms, what });
}

function nextText(ws: WebSocket, pred: (text: string) => boolean, what: string): Promise<string> {
  return within(
    new Promise<string>((resolve, reject) => {
      const onMessage = (data: Buffer, binary: boolean) => {
        if (!binary && pred(data.toString())) {
          ws.off('message', onMessage);
          resolve(data.toString());
        }
      };
      ws.on('message', onMessage);
      ws.once('close', (code) => reject(new Error(`${what}: socket closed (${code})`)));
    }),
    what,
  );
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return within(closes.get(ws)!, 'close');
}

describe('relayed WebSocket message cap', () => {
  it('closes a viewer WebSocket whose message is over the cap with 1009 on both legs and leaves another WebSocket of the session working', async () => {
    const other = await openViewer('/echo');
    const sink = await openViewer(`/sink?n=${CAP + 1}`);
    const closed = closeOf(sink);
    sink.send(Buffer.alloc(CAP + 1));
    const { code, reason } = await closed;
    expect(code).toBe(1009);
    expect(reason).toBe(`message over the ${CAP}-byte limit`);
    // The app's leg closed with 1009 too (the message itself never reached it).
    expect(await app.closeOf('/sink')).toEqual({ path: '/sink', code: 1009, reason: `message over the ${CAP}-byte limit` });
    other.send('still here');
    expect(await nextText(other, (s) => s === 'still here', 'echo on the other WebSocket')).toBe('still here');
  });

  it('closes the viewer with 1009 when the app sends a message over the cap, and the session goes on', async () => {
    const other = await openViewer('/echo');
    const source = await openViewer(`/source?count=1&size=${HUGE}`);
    const { code, reason } = await closeOf(source);
    expect(code).toBe(1009);
    expect(reason).toBe(`message over the ${CAP}-byte limit`);
    expect(await app.closeOf('/source')).toEqual({ path: '/source', code: 1009, reason: `message over the ${CAP}-byte limit` });
    other.send('after');
    expect(await nextText(other, (s) => s === 'after', 'echo after the over-cap close')).toBe('after');
  });

  it('relays larger messages when both the server and the agent raise the cap, and refuses one byte over the new cap', async () => {
    await killAll();
    const raised = 2 * MiB;
    t = await startTunnel(String(app.port), {
      serverEnv: { WS_MAX_MESSAGE_BYTES: String(raised) },
      agentArgs: ['--no-p2p', '--ws-max-message-bytes', String(raised)],
    });
    const echo = await openViewer('/echo');
    const back = within(new Promise<Buffer>((r) => echo.once('message', (d: Buffer) => r(d))), 'echo of a 2 MiB message');
    echo.send(Buffer.alloc(raised, 1));
    expect((await back).length).toBe(raised);
    const sink = await openViewer(`/sink?n=${raised + 1}`);
    sink.send(Buffer.alloc(raised + 1));
    expect(await closeOf(sink)).toEqual({ code: 1009, reason: `message over the ${raised}-byte limit` });
  });

  it(`keeps server and agent RSS growth within ${RSS_GROWTH_MAX_MB} MB while 1 GiB of messages crosses the relay both ways and 60 MiB messages are refused`, async () => {
    // Warm-up (first buffers, JIT) before the baseline.
    const warm = await openViewer(`/sink?n=${8 * CAP}`);
    const warmed = nextText(warm, (s) => s.startsWith('got'), 'warm-up');
    await sendPaced(warm, 8, CAP);
    await warmed;
    warm.close();

    const rss = sampleRss({ server: t.server, agent: t.agent });
    const half = 512;
    // Viewer → app: 512 messages of 1 MiB.
    const up = await openViewer(`/sink?n=${half * CAP}`);
    const upDone = nextText(up, (s) => s.startsWith('got'), 'upload acknowledged');
    // App → viewer: 512 messages of 1 MiB, counted here.
    const down = await openViewer(`/source?count=${half}&size=${CAP}`);
    let downBytes = 0;
    down.on('message', (data: Buffer, binary) => {
      if (binary) downBytes += data.length;
    });
    const downDone = nextText(down, (s) => s === 'end', 'download finished');
    // Over-cap messages both ways while the bulk runs: each closes its own socket only.
    const hugeUp = await Promise.all(Array.from({ length: HUGE_SOCKETS }, () => openViewer(`/sink?n=${HUGE}`)));
    const hugeUpClosed = hugeUp.map(closeOf);
    for (const ws of hugeUp) ws.send(Buffer.alloc(HUGE));
    const hugeDown = await Promise.all(Array.from({ length: HUGE_SOCKETS }, () => openViewer(`/source?count=1&size=${HUGE}`)));
    const hugeDownClosed = hugeDown.map(closeOf);

    await sendPaced(up, half, CAP);
    expect(await upDone).toBe(`got ${half * CAP}`);
    await downDone;
    // The over-cap sockets settle (closed, or still relaying their 60 MiB) within a bounded wait.
    const closes = await Promise.all(
      [...hugeUpClosed, ...hugeDownClosed].map((p) => within(p, 'over-cap close', 15_000).catch(() => ({ code: 0, reason: 'not closed' }))),
    );
    const growth = rss.stop();
    console.log(
      `RSS growth while 1 GiB of 1 MiB WebSocket messages crossed the relay: server ${growth.server.toFixed(1)} MB, agent ${growth.agent.toFixed(1)} MB`,
    );
    expect(downBytes).toBe(half * CAP);
    expect(growth.server).toBeLessThan(RSS_GROWTH_MAX_MB);
    expect(growth.agent).toBeLessThan(RSS_GROWTH_MAX_MB);
    expect(closes.map((c) => c.code)).toEqual(Array(2 * HUGE_SOCKETS).fill(1009));
  });
});
