/**
 * The signaling hub keeps state only for sessions with a viewer signaling
 * now: a socket it refuses (P2P off for the session, the agent away, the
 * address over its share) leaves nothing behind, so strangers cannot grow the
 * server's memory with sessions that do no P2P. Real WebSockets on loopback
 * and the hub's own session interface (SignalingSession).
 */
import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createMetrics } from '../../src/metrics';
import { createSignalingHub, type SignalingHub, type SignalingSession } from '../../src/signaling/signaling-hub';
import { waitForEvent, withTimeout } from '../../../../test/helpers/wait';

/** Sessions that each get a refused signaling socket (P2P off, or their agent away). */
const SESSIONS = 20;
const WAIT_MS = 5_000;

let wss: WebSocketServer;
let hub: SignalingHub;
const clients = new Set<WebSocket>();
/** 'closed' (with the socket's number) once the hub has seen a socket close: its own close handler ran first. */
const serverSide = new EventEmitter();
let sockets = 0;

afterEach(async () => {
  for (const c of clients) c.terminate();
  clients.clear();
  hub?.close();
  await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
});

type P2P = 'on' | 'off' | 'agent away';

/** A session as the hub sees it. */
function session(id: string, p2p: P2P): SignalingSession {
  return {
    id,
    p2pEnabled: () => p2p === 'on',
    agentAway: () => p2p === 'agent away',
    p2pSettings: () => ({ enabled: p2p === 'on', iceServers: [], timeoutMs: 8_000 }),
    sendToAgent: () => true,
  };
}

/** A hub behind a WebSocket server on loopback; each connection is handed to it for the session its path names (`/<p2p>/<id>/<socket number>`). */
async function start(): Promise<number> {
  hub = createSignalingHub({ metrics: createMetrics({ sessionStats: () => ({ live: 0, grace: 0 }) }).p2p });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, req) => {
    const [, p2p, id, socket] = decodeURIComponent(req.url ?? '/').split('/');
    hub.acceptViewer(ws, session(id!, p2p as P2P), '127.0.0.1');
    ws.once('close', () => serverSide.emit('closed', socket));
  });
  await once(wss, 'listening');
  return (wss.address() as AddressInfo).port;
}

/** Opens a signaling socket for session `id`; its first message, and its close as the hub saw it. */
async function signal(port: number, p2p: P2P, id: string): Promise<{ first: { type: string; code?: string }; ws: WebSocket; closed: Promise<unknown> }> {
  const n = String(++sockets);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/${encodeURIComponent(p2p)}/${id}/${n}`);
  clients.add(ws);
  const closed = waitForEvent(serverSide, 'closed', {
    timeoutMs: WAIT_MS,
    what: `the hub to see socket ${n} of ${id} close`,
    filter: (socket: string) => socket === n,
  });
  // Awaited by the tests that close it; one left open must not reject unhandled after the test.
  closed.catch(() => undefined);
  const first = await withTimeout(
    new Promise<{ type: string; code?: string }>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as { type: string; code?: string }));
      ws.once('error', reject);
    }),
    { timeoutMs: WAIT_MS, what: `a signaling message for ${id}` },
  );
  return { first, ws, closed };
}

describe("the signaling hub's state per session", () => {
  it('keeps nothing for sessions that refuse P2P, however many sockets strangers open', async () => {
    const port = await start();
    for (let i = 0; i < SESSIONS; i++) {
      const p2p = i % 2 === 0 ? 'off' : 'agent away';
      const s = await signal(port, p2p, `session-${i}`);
      expect(s.first).toMatchObject({ type: 'error', code: p2p === 'off' ? 'ERR_P2P_DISABLED' : 'ERR_AGENT_OFFLINE' });
      await s.closed;
    }
    expect(hub.sessionCount()).toBe(0);
  });

  it('keeps a session while one of its viewers signals, and forgets it when the last leaves', async () => {
    const port = await start();
    const viewers = [await signal(port, 'on', 'shared'), await signal(port, 'on', 'shared')];
    expect(viewers.map((v) => v.first.type)).toEqual(['hello', 'hello']);
    expect(hub.sessionCount()).toBe(1);
    viewers[0]!.ws.close();
    await viewers[0]!.closed;
    expect(hub.sessionCount()).toBe(1);
    viewers[1]!.ws.close();
    await viewers[1]!.closed;
    expect(hub.sessionCount()).toBe(0);
  });
});
