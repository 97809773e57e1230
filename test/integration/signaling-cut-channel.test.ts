/**
 * A viewer whose signaling socket is cut to make room for another network
 * (push-out: ERR_SIGNALING_QUOTA, close 1013) keeps its P2P channel: the cut
 * stops its new signaling, not the channel it already set up; the cut is
 * counted as one (wingman_signaling_cut_total), not as a refusal. Real
 * processes (tunnel server, agent, fixture app) and a Node viewer
 * (@roamhq/wrtc, in a child process of its own: test/helpers/p2p-viewer-process.ts);
 * signaling sockets of other networks come from their own loopback
 * addresses (127.0.x.y). Runs inside the loopback-only namespace `npm test`
 * creates.
 */
import { GONE_CHECK_TIMEOUT_MS, SIGNAL_PATH } from '@wingman/protocol';
import WebSocket from 'ws';
import { DEFAULT_MAX_SIGNALING_PER_VIEWER } from '../../packages/tunnel-server/src/limits';
import { MAX_VIEWERS_PER_SESSION } from '../../packages/tunnel-server/src/signaling/signaling-shares';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { metricSum } from '../helpers/http-client';
import { closeViewersAndProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { startTunnel, type Tunnel } from '../helpers/processes';
import { expectUnchangedWithin, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

/** Signaling sockets one address may hold per session (MAX_SIGNALING_PER_VIEWER's default: 8). */
const PER_ADDRESS = DEFAULT_MAX_SIGNALING_PER_VIEWER;
/** Sockets each network of the crowd holds: its floor, which shares never refuse. */
const PER_CROWD_NETWORK = 2;
const ANSWER_TIMEOUT_MS = 10_000;

let app: FixtureApp | undefined;
let t: Tunnel;
const sockets = new Set<WebSocket>();

afterEach(async () => {
  for (const ws of sockets) ws.terminate();
  sockets.clear();
  await closeViewersAndProcesses(app);
});

/** A signaling socket from `localAddress`, kept open; resolves with it and its first message. */
function holdSignaling(localAddress: string): Promise<{ ws: WebSocket; first: { type: string; code?: string } }> {
  const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}${SIGNAL_PATH}`, { headers: { host: t.host }, localAddress });
  sockets.add(ws);
  const first = new Promise<{ type: string; code?: string }>((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data)) as { type: string; code?: string }));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`signaling refused: HTTP ${res.statusCode}`)));
  });
  return withTimeout(
    first.then((m) => ({ ws, first: m })),
    { timeoutMs: ANSWER_TIMEOUT_MS, what: `a signaling message for ${localAddress}` },
  );
}

describe('a signaling socket cut for another network', () => {
  it("leaves its viewer's open P2P channel serving, and is counted as a cut, not a refusal", async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    const hello = { method: 'GET', target: '/hello', headers: [['host', t.host]] as Array<[string, string]> };
    // The viewer's network (127.0.0.0/24) holds the most: seven sockets of a neighbour, then the viewer's, its newest.
    const neighbour: WebSocket[] = [];
    for (let i = 0; i < PER_ADDRESS - 1; i++) {
      const s = await holdSignaling('127.0.0.2');
      expect(s.first.type).toBe('hello');
      neighbour.push(s.ws);
    }
    const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    const before = await viewer.request(hello);
    expect(`${before.status} ${before.body.toString()}`).toBe('200 hello GET');

    // Other networks take the rest of the session's signaling sockets, each within its floor.
    for (let i = 0; i < MAX_VIEWERS_PER_SESSION - PER_ADDRESS; i++) {
      expect((await holdSignaling(`127.0.${40 + Math.floor(i / PER_CROWD_NETWORK)}.1`)).first.type).toBe('hello');
    }
    // A newcomer's network: the newest socket of the network holding the most, the viewer's, is cut for it.
    expect((await holdSignaling('127.0.99.1')).first.type).toBe('hello');
    expect(neighbour.filter((ws) => ws.readyState !== WebSocket.OPEN)).toEqual([]);
    expect(await metricSum(t.serverPort, 'wingman_signaling_cut_total')).toBe(1);
    expect(await metricSum(t.serverPort, 'wingman_signaling_rejected_total', 'code="ERR_SIGNALING_QUOTA"')).toBe(0);

    // The channel still carries requests, and the agent keeps the viewer's peer through its check of the closed socket.
    const after = await viewer.request(hello);
    expect(`${after.status} ${after.body.toString()}`).toBe('200 hello GET');
    const closed = () => t.agent.events.filter((e) => e.event === 'peer' && e.viewerId === viewer.viewerId && e.state !== 'connected');
    await expectUnchangedWithin(closed, { windowMs: 2 * GONE_CHECK_TIMEOUT_MS, what: "the agent's peer of the viewer" });
    const later = await viewer.request(hello);
    expect(`${later.status} ${later.body.toString()}`).toBe('200 hello GET');
    expect((await viewer.state()).connection.isClosed).toBe(false);
  });
});
