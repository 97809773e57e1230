/**
 * Row "p2p (Node viewer)": tunnel server + agent, and in this process the
 * project's Node viewer connected peer-to-peer over @roamhq/wrtc. The same
 * figures as the HTTP rows, carried by the protocol over the data channel,
 * plus the baseline the P2P goals divide by: a raw data channel from this
 * process to the bench's raw host (lib/raw-host.mjs, another Node process
 * with wrtc, as the agent's P2P host is). At c=1, CPU per request of the
 * agent, its P2P host processes (its children: the viewer's and a spare),
 * the tunnel server and the app, in `load.c1.cpu`.
 */
import { existsSync } from 'node:fs';
import { spawnNode } from '../lib/children.mjs';
import { createRequire } from 'node:module';
import {
  AGENT_BIN,
  CONCURRENCIES,
  DOWNLOAD_BYTES,
  RAW_HOST_SCRIPT,
  REQUEST_MODULE,
  SERVER_BIN,
  SMALL_PATH,
  UPLOAD_BYTES,
  VIEWER_MODULE,
  WARMUP_BYTES,
  WEBRTC_MODULE,
} from '../lib/config.mjs';
import { childPids, createCpuMeter } from '../lib/proc.mjs';
import { protocolDownload, protocolLoad, protocolSse, protocolUpload, protocolWebSocket } from '../measure/protocol-requests.mjs';
import { createRawChannel } from '../measure/raw-channel.mjs';
import { startWingman } from './wingman-relay.mjs';
import { startTargetApp } from './target.mjs';

const require = createRequire(import.meta.url);
const CONNECT_TIMEOUT_MS = 15_000;
const RAW_OPEN_TIMEOUT_MS = 10_000;
const RAW_POLL_MS = 10;

export const p2pNodeRow = {
  id: 'p2pNode',
  label: 'p2p (Node viewer)',
  unavailable() {
    for (const f of [SERVER_BIN, AGENT_BIN, VIEWER_MODULE, REQUEST_MODULE, WEBRTC_MODULE, RAW_HOST_SCRIPT]) {
      if (!existsSync(f)) return `${f} is missing (run npm run build)`;
    }
    return null;
  },
};

/**
 * Runs the whole P2P row. Same result shape as lib/run-http-rows.mjs, plus
 * `p2p` (the raw channel's figures) for the P2P goals.
 *
 * The viewer's peer connection is not closed here but pushed onto `closeLater`:
 * wrtc can crash the process while tearing a peer connection down (seen here
 * once as a segfault at exit), so the caller closes it
 * only after the results are printed and written.
 * @param {{ durationS: number, warmupS: number, bulkRuns: number }} settings
 * @param {(msg: string) => void} log
 * @param {Array<() => void>} closeLater
 */
export async function runP2PNodeRow(settings, log, closeLater) {
  const row = p2pNodeRow;
  const result = { id: row.id, label: row.label, status: 'ok', metrics: {}, errors: {}, load: {}, details: {}, p2p: {} };
  const reason = row.unavailable();
  if (reason) return { ...result, status: 'unavailable', reason };
  log(`${row.label}: starting`);
  const procs = [];
  let viewer;
  let w;
  try {
    const app = await startTargetApp();
    procs.push(app.proc);
    w = await startWingman(app.port);
    procs.unshift(w.agent, w.server);
    ({ viewer } = await connectViewer(w.url));
    result.p2p.connectMs = viewer.connectMs;
    const rawHost = spawnNode('raw-host', [RAW_HOST_SCRIPT]);
    procs.push(rawHost);
    const { port } = await rawHost.waitEvent('ready', RAW_OPEN_TIMEOUT_MS);
    const rawPeer = await openRawChannel(port);
    closeLater.push(rawPeer.close);
    const raw = createRawChannel(rawPeer.dc);
    const { requestOver } = require(REQUEST_MODULE);
    const ctx = { requestOver, conn: viewer.connection, host: w.host, rawHostPid: Number(rawHost.child.pid) };
    const pidOf = (p) => Number(p.child.pid);
    const metered = () => [
      { name: w.agent.name, pid: pidOf(w.agent) },
      ...childPids(pidOf(w.agent)).map((pid) => ({ name: `P2P host (pid ${pid})`, pid })),
      { name: w.server.name, pid: pidOf(w.server) },
      { name: app.proc.name, pid: pidOf(app.proc) },
    ];
    await measureAll(result, ctx, raw, metered, settings, log);
  } catch (err) {
    return { ...result, status: 'failed', reason: firstLine(err), detail: String(err?.stack ?? err) };
  } finally {
    // The agent's own account (peer states, reconnects) explains most P2P failures.
    if (w) result.details.agentEvents = w.agent.notableOutput();
    if (viewer) closeLater.push(() => viewer.close());
    for (const p of procs) await p.kill();
  }
  return result;
}

/** @param {() => Array<{ name: string, pid: number }>} metered the processes whose CPU per request is measured at c=1 */
async function measureAll(result, ctx, raw, metered, settings, log) {
  const take = async (keys, fn) => {
    try {
      await fn();
    } catch (err) {
      for (const k of keys) result.errors[k] = firstLine(err);
      log(`${result.label}: ${keys.join(', ')} failed: ${firstLine(err)}`);
    }
  };
  log(`${result.label}: raw channel ping (${settings.durationS} s)`);
  await take(['rawPing'], async () => {
    // The raw host's CPU per ping: the floor of what the P2P host can spend per small exchange (one message in, one out).
    const cpu = createCpuMeter([{ name: 'raw host', pid: ctx.rawHostPid }]);
    cpu.start();
    const ping = await raw.ping(settings.durationS);
    const used = cpu.stop(ping.count);
    if ('processes' in used) result.p2p.rawHostCpuUsPerPing = used.processes[0].usPerRequest;
    result.p2p.rawPingP50Ms = ping.p50Ms;
    result.p2p.rawPingP99Ms = ping.p99Ms;
    result.p2p.rawPings = ping.count;
  });
  await take(['websocket'], async () => {
    const r = await protocolWebSocket(ctx);
    result.metrics.websocket = r.ok;
    result.details.websocket = r.detail;
  });
  await take(['sse'], async () => {
    const r = await protocolSse(ctx);
    result.metrics.sse = r.ok;
    result.details.sse = r.detail;
  });
  for (const c of CONCURRENCIES) {
    log(`${result.label}: 1 KiB GET at concurrency ${c} (${settings.warmupS} s warm-up + ${settings.durationS} s)`);
    await take([`c${c}ReqPerSec`, `c${c}P50Ms`, `c${c}P99Ms`], async () => {
      const cpu = c === 1 ? createCpuMeter(metered()) : undefined;
      const load = await protocolLoad(ctx, {
        path: SMALL_PATH,
        connections: c,
        durationS: settings.durationS,
        warmupS: settings.warmupS,
        expectBytes: 1024,
        cpu,
      });
      result.load[`c${c}`] = load;
      result.metrics[`c${c}ReqPerSec`] = load.reqPerSec;
      result.metrics[`c${c}P50Ms`] = load.p50Ms;
      result.metrics[`c${c}P99Ms`] = load.p99Ms;
    });
  }
  // Raw and protocol transfers alternate, so drift (GC, a busy neighbour) hits both alike.
  log(`${result.label}: 100 MiB over the raw channel and over the protocol, × ${settings.bulkRuns} each`);
  await take(['downloadMBps', 'rawBulk'], async () => {
    // Uncounted warm-up of both paths (see WARMUP_BYTES).
    await raw.bulk(WARMUP_BYTES);
    await protocolDownload(ctx, WARMUP_BYTES);
    const rawRates = [];
    const rates = [];
    for (let i = 0; i < settings.bulkRuns; i++) {
      rawRates.push(await raw.bulk(DOWNLOAD_BYTES));
      rates.push(await protocolDownload(ctx, DOWNLOAD_BYTES));
    }
    result.p2p.rawBulkMBps = median(rawRates);
    result.details.rawBulkRunsMBps = rawRates;
    result.metrics.downloadMBps = median(rates);
    result.details.downloadRunsMBps = rates;
  });
  log(`${result.label}: 20 MiB POST × ${settings.bulkRuns}`);
  await take(['uploadMBps'], async () => {
    await protocolUpload(ctx, WARMUP_BYTES);
    const rates = [];
    for (let i = 0; i < settings.bulkRuns; i++) rates.push(await protocolUpload(ctx, UPLOAD_BYTES));
    result.metrics.uploadMBps = median(rates);
    result.details.uploadRunsMBps = rates;
  });
}

/** Connects the project's Node viewer. */
async function connectViewer(url) {
  const { connectP2PViewer } = require(VIEWER_MODULE);
  const viewer = await connectP2PViewer({ url, timeoutMs: CONNECT_TIMEOUT_MS });
  return { viewer };
}

/**
 * Opens the raw baseline channel to the raw host on `port`: the viewer side of
 * its signaling (hello → offer, trickled candidates → answer).
 * @returns {Promise<{ dc: any, close: () => void }>}
 */
function openRawChannel(port) {
  const { closePeer, createPeerConnection } = require(WEBRTC_MODULE);
  const WebSocket = require('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const pc = createPeerConnection({ iceServers: [] });
  const dc = pc.createDataChannel('wingman-raw-bench', { ordered: true });
  const close = () => {
    ws.close();
    closePeer(pc, dc);
  };
  const send = (m) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(m));
  pc.onicecandidate = (e) =>
    send(
      e.candidate
        ? { type: 'ice-candidate', candidate: { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } }
        : { type: 'end-of-candidates' },
    );
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const fail = (err) => {
      close();
      reject(err);
    };
    ws.on('error', fail);
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(String(data));
      } catch (err) {
        return fail(err);
      }
      if (m.type === 'hello')
        pc.createOffer()
          .then((o) => pc.setLocalDescription(o))
          .then(() => send({ type: 'offer', sdp: pc.localDescription.sdp }), fail);
      else if (m.type === 'answer') pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch(fail);
    });
    // wrtc does not always fire 'open' (seen with @roamhq/wrtc: readyState
    // becomes 'open', no event), so readyState is polled, within a deadline.
    const check = () => {
      if (dc.readyState === 'open') return resolve({ dc, close });
      if (dc.readyState === 'closed' || dc.readyState === 'closing') return fail(new Error('raw bench channel closed by the raw host'));
      if (Date.now() - started > RAW_OPEN_TIMEOUT_MS) return fail(new Error(`raw bench channel not open within ${RAW_OPEN_TIMEOUT_MS} ms`));
      setTimeout(check, RAW_POLL_MS);
    };
    check();
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function firstLine(err) {
  return String(err?.message ?? err).split('\n')[0];
}
