/**
 * Fair shares per network, real processes (tunnel server, agent, fixture
 * app): many addresses of one network (an IPv4 /24, an IPv6 /56) that each
 * hold every WebSocket they can cannot take a session's
 * agent streams (1 024) away from a viewer on another network, and neither
 * can many networks that each hold all their share lets them: a newcomer's
 * streams are cut from the network holding the most. IPv4 viewers
 * come from their own loopback addresses (127.0.x.y); IPv6 viewers come
 * through a trusted proxy (TRUST_PROXY=1, X-Forwarded-For), as behind Caddy
 * or nginx.
 */
import { Agent, request } from 'node:http';
import { DEFAULT_MAX_CONCURRENT_STREAMS } from '@wingman/protocol';
import WebSocket from 'ws';
import { RETRY_AFTER_S } from '../../packages/tunnel-server/src/http/pages';
import { CUT_MESSAGE, CUT_REASON, ERR_VIEWER_STREAMS } from '../../packages/tunnel-server/src/relay/viewer-streams';
import { shareFloor } from '../../packages/tunnel-server/src/sessions/push-out';
import { LOG_LIMIT_MAX_KEYS } from '../../packages/tunnel-server/src/sessions/cut-log';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { metricSum } from '../helpers/http-client';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

/** Where a viewer's requests come from: its socket's address, or the address a trusted proxy names. */
type Origin = { localAddress: string } | { forwardedFor: string };

/** Addresses of one network, and streams each tries to hold: the attack that held all 1 024 agent streams. */
const ADDRESSES = 32;
const STREAMS_PER_ADDRESS = 64;
/** Requests a page of the newcomer sends. */
const PAGE_REQUESTS = 48;
/** Networks (/24s) of the crowd that, each holding what its share let it, held every agent stream. */
const NETWORKS = 32;
/** Connections a browser opens to one host over HTTP/1.1. */
const BROWSER_CONNECTIONS = 6;
/** The close code of a WebSocket cut for a viewer holding fewer (Try Again Later). */
const WS_TRY_AGAIN_LATER = 1013;
const ANSWER_TIMEOUT_MS = 10_000;

let app: FixtureApp;
let t: Tunnel;
const held = new Set<{ close(): void }>();

afterEach(async () => {
  for (const h of held) h.close();
  held.clear();
  await killAll();
  await app?.close();
});

const headersOf = (from: Origin): Record<string, string> => ('forwardedFor' in from ? { 'x-forwarded-for': from.forwardedFor } : {});
const socketOf = (from: Origin) => ('localAddress' in from ? { localAddress: from.localAddress } : {});

/** How a held WebSocket was closed by the server. */
interface Closed {
  code: number;
  reason: string;
}

/** An open WebSocket (101, kept open) or a refused upgrade: the status. `onClosed`: the server closed it later. */
function holdWebSocket(from: Origin, onClosed: (closed: Closed) => void = () => {}): Promise<number> {
  const answered = new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/ws`, { headers: { host: t.host, ...headersOf(from) }, ...socketOf(from) });
    let ours = false;
    held.add({
      close: () => {
        ours = true;
        ws.terminate();
      },
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => {
      resolve(101);
      ws.on('close', (code, reason) => {
        if (!ours) onClosed({ code, reason: reason.toString() });
      });
    });
    ws.on('error', reject);
  });
  return withTimeout(answered, { timeoutMs: ANSWER_TIMEOUT_MS, what: 'an answer to a WebSocket upgrade' });
}

/**
 * Each address in turn holds WebSockets until refused or at STREAMS_PER_ADDRESS; how many each holds.
 * (WebSockets, not slow responses: past 32 open responses the agent's upstream pool waits 250 ms for
 * each further connection, and a relayed WebSocket holds an agent stream just the same.)
 */
async function attack(addresses: Origin[], onClosed?: (closed: Closed) => void): Promise<number[]> {
  const heldBy: number[] = [];
  for (const from of addresses) {
    let n = 0;
    for (let i = 0; i < STREAMS_PER_ADDRESS; i++) {
      const status = await holdWebSocket(from, onClosed);
      if (status !== 200 && status !== 101) {
        expect(status).toBe(503);
        break;
      }
      n++;
    }
    heldBy.push(n);
  }
  return heldBy;
}

/**
 * A newcomer's page: PAGE_REQUESTS requests and a WebSocket; how many requests were served, and the upgrade's status.
 * The requests go at once, each on its own connection, or over `browser`'s connections as a browser sends them.
 */
async function newcomerPage(from: Origin, browser: Agent | false = false): Promise<{ served: number; ws: number }> {
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: t.serverPort, path: '/hello', agent: browser, headers: { host: t.host, ...headersOf(from) }, ...socketOf(from) },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
  const page = await withTimeout(Promise.all(Array.from({ length: PAGE_REQUESTS }, get)), {
    timeoutMs: ANSWER_TIMEOUT_MS,
    what: "the newcomer's page",
  });
  return { served: page.filter((status) => status === 200).length, ws: await holdWebSocket(from) };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** `count` WebSockets from `from` opened at once; each must open (101). */
async function openAll(from: Origin, count: number, onClosed?: (closed: Closed) => void): Promise<void> {
  const statuses = await Promise.all(Array.from({ length: count }, () => holdWebSocket(from, onClosed)));
  expect(statuses.filter((s) => s !== 101)).toEqual([]);
}

/** What answered an upgrade that the app leaves pending (GET /hang): the server's response, whenever it comes. */
interface PendingAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a WebSocket upgrade for /hang from `from` on its own connection; resolves with the HTTP response that ends it (a reset rejects). */
function pendingUpgrade(from: Origin): Promise<PendingAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: t.serverPort,
      path: '/hang',
      agent: false,
      headers: {
        host: t.host,
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headersOf(from),
      },
      ...socketOf(from),
    });
    held.add({ close: () => req.destroy() });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the pending upgrade was completed (101)'));
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The server's log lines about stream cuts (pino JSON): each cut written as it came, or a summary of `suppressed` more. */
function cutLines(stderr: string[]): Array<{ msg: string; suppressed?: number }> {
  return stderr
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; suppressed?: number })
    .filter((l) => /^session full: .*\bstream\b/.test(l.msg));
}

/** The WebSockets the server closed, and a wait for the count to reach a number. */
function closedSockets(): { record: (closed: Closed) => void; reach: (n: number) => Promise<Closed[]> } {
  const closed: Closed[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  return {
    record(c) {
      closed.push(c);
      if (waiter && closed.length >= waiter.n) waiter.resolve();
    },
    reach(n) {
      const reached = closed.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve }));
      return withTimeout(
        reached.then(() => [...closed]),
        { timeoutMs: ANSWER_TIMEOUT_MS, what: `${n} WebSockets closed by the server` },
      );
    },
  };
}

describe('fair shares per network', () => {
  it('serves a newcomer while 32 addresses of one IPv4 /24 each hold every WebSocket they can', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    const heldBy = await attack(Array.from({ length: ADDRESSES }, (_, i) => ({ localAddress: `127.0.7.${i + 1}` })));
    expect(await newcomerPage({ localAddress: '127.0.9.1' })).toEqual({ served: PAGE_REQUESTS, ws: 101 });
    // The /24 holds a quarter of the agent's 1 024 streams, as one address alone would.
    expect(sum(heldBy)).toBe(256);
  });

  it('serves a newcomer while 32 /64s of one IPv6 /56, behind a trusted proxy, each hold every WebSocket they can', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { serverEnv: { TRUST_PROXY: '1' } });
    // 2001:db8:7:40::/64 … 2001:db8:7:5f::/64: one /58, inside 2001:db8:7::/56.
    const heldBy = await attack(Array.from({ length: ADDRESSES }, (_, i) => ({ forwardedFor: `2001:db8:7:${(0x40 + i).toString(16)}::1` })));
    expect(await newcomerPage({ forwardedFor: '2001:db8:8::1' })).toEqual({ served: PAGE_REQUESTS, ws: 101 });
    expect(sum(heldBy)).toBe(256);
  });

  it('answers a WebSocket cut while its upgrade is still pending with a 503 that says why, and Retry-After', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    const floor = shareFloor(DEFAULT_MAX_CONCURRENT_STREAMS);
    const closedByServer: Closed[] = [];
    const record = (c: Closed) => closedByServer.push(c);
    // 24 networks hold their floor each (768 streams); then one address of another holds what its share allows now (a
    // quarter of the 256 left: 64), its newest an upgrade the app leaves pending; 6 more networks fill the session.
    for (let i = 0; i < 24; i++) await openAll({ localAddress: `127.0.${40 + i}.1` }, floor, record);
    const largest = { localAddress: '127.0.30.1' };
    await openAll(largest, 63, record);
    const pending = pendingUpgrade(largest);
    await app.waitForRequest('/hang');
    for (let i = 0; i < 6; i++) await openAll({ localAddress: `127.0.${70 + i}.1` }, floor, record);
    // A newcomer's WebSocket on the full session: the network holding the most (64) gives up its newest, the pending upgrade.
    expect(await holdWebSocket({ localAddress: '127.0.99.1' })).toBe(101);
    const answer = await withTimeout(pending, { timeoutMs: ANSWER_TIMEOUT_MS, what: 'an answer to the cut upgrade' });
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe(String(RETRY_AFTER_S));
    expect(answer.body).toContain(CUT_MESSAGE);
    expect(answer.body).toContain(ERR_VIEWER_STREAMS);
    // The app's side of the cut upgrade is given up too, not left waiting.
    await app.waitForAborted('/hang');
    expect(await metricSum(t.serverPort, 'wingman_viewer_streams_cut_total')).toBe(1);
    // Only the pending upgrade was cut: every open WebSocket is still open.
    expect(closedByServer).toEqual([]);
  });

  it('serves a newcomer from a 33rd network while 32 networks, each holding what its share lets it, hold every agent stream', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { serverEnv: { LOG_LEVEL: 'info' } });
    const closed = closedSockets();
    // One address on each of 32 /24s, each holding every WebSocket it can (up to 64: twice the agent's streams in all).
    const heldBy = await attack(
      Array.from({ length: NETWORKS }, (_, i) => ({ localAddress: `127.0.${i + 10}.1` })),
      closed.record,
    );
    // The session is full: what the crowd opened beyond the agent's streams was cut again, and each cut one heard why.
    const cut = await closed.reach(sum(heldBy) - DEFAULT_MAX_CONCURRENT_STREAMS);
    expect(cut.filter((c) => c.code !== WS_TRY_AGAIN_LATER || c.reason !== CUT_REASON)).toEqual([]);
    const cutsBefore = await metricSum(t.serverPort, 'wingman_viewer_streams_cut_total');
    expect(cutsBefore).toBe(cut.length);
    // A browser on a 33rd network loads a page: its 48 requests over 6 connections, then its WebSocket.
    const browser = new Agent({ keepAlive: true, maxSockets: BROWSER_CONNECTIONS });
    try {
      expect(await newcomerPage({ localAddress: '127.0.99.1' }, browser)).toEqual({ served: PAGE_REQUESTS, ws: 101 });
    } finally {
      browser.destroy();
    }
    // Its streams were the crowd's newest: the server counted each cut.
    const cuts = await metricSum(t.serverPort, 'wingman_viewer_streams_cut_total');
    expect(cuts).toBeGreaterThan(cutsBefore);
    // Logged within bounds: per pair of networks one line and one summary per interval, pairs past 32 in one
    // summary; the summaries come out at the latest when the server stops, and together they count every cut.
    await t.server.kill();
    const lines = cutLines(t.server.stderrLines());
    expect(lines.length).toBeLessThanOrEqual(2 * LOG_LIMIT_MAX_KEYS + 1);
    expect(sum(lines.map((l) => l.suppressed ?? 1))).toBe(cuts);
  });
});
