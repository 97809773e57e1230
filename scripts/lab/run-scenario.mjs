/**
 * One scenario end to end: build its namespaces, start Wingman's processes,
 * run the reviewer (Chromium) in the reviewer namespace, judge the result,
 * tear everything down (also when something fails on the way).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLOOR_SHELL_SW_PATH, FLOOR_SW_PATH } from './floor-sw.mjs';
import { destroyNamespaces, listNamespaces } from './netns.mjs';
import { startInNamespace } from './proc.mjs';
import { DOWNLOAD_BYTES, LAB_P2P_TIMEOUT_MS, SMALL_REQUESTS, WAN_TRANSFER_BYTES, pathRttMs } from './scenarios.mjs';
import { readServerBytes } from './server-bytes.mjs';
import { LAB_DOMAIN, ROOT, issueServerCertificate, startStack } from './stack.mjs';
import { SERVER_PORT, allowOnlyServerHttp, buildTopology } from './topology.mjs';
import { startBaselineStack } from './tls-proxy.mjs';
import { applyWan } from './wan.mjs';
import { measureBulkFloor } from './bulk-floor/index.mjs';
import { formatSetupRace, measureSetupRace } from './setup-race/index.mjs';

const REVIEWER = join(ROOT, 'scripts/lab/reviewer.mjs');
/** After the P2P deadline, time for the shell to report its verdict (and, for TURN over TCP, to finish). */
const VERDICT_GRACE_MS = 5_000;
/**
 * Chromium start + page + up to 50 MiB over the slowest path + 55 requests (WAN: 20 MiB each way
 * at 160 ms RTT, 55 requests at ≥ 160 ms, two reloads). The slowest path is the data channel
 * under 2 % loss (lossy-mobile): 0.1–0.3 MB/s, so its two 20 MiB transfers alone take ~4 min.
 */
const REVIEWER_TIMEOUT_MS = 600_000;
/** The reviewer waits this long at most for the lab to read the server's counters after the first load. */
const FIRST_LOAD_GATE_MS = 15_000;
/** Once P2P is up, ICE may still switch pairs for a moment; the path is read after this. */
const SETTLE_MS = 500;

/**
 * @typedef {object} ScenarioResult
 * @property {string} scenario
 * @property {string} title
 * @property {boolean} ok every check passed
 * @property {string | null} transport host | srflx | relay-udp | relay-tcp | wingman-relay | unknown
 * @property {string[]} expected
 * @property {number | null} firstByteMs navigation start → first byte of the app's document
 * @property {number | null} p2pReadyMs navigation start → data channel usable (null: never)
 * @property {number | null} downloadMBps
 * @property {number | null} smallP50Ms
 * @property {string[]} failed names of the failed checks (with `error`, what went wrong)
 * @property {number} p2pTimeoutMs the tunnel server's P2P_TIMEOUT_MS in this scenario
 */

/**
 * @param {{ prefix: string, index: number, scenario: import('./scenarios.mjs').Scenario, ca: import('../lib/test-ca.cjs').TestCa, delayLine?: string, downloadBytes?: number, log: (s: string) => void }} options
 *   ca: the run's lab CA (signs the server's certificate; the reviewer's Chromium trusts it through its NSS database)
 *   delayLine: the compiled delay line (WAN scenarios)
 *   downloadBytes: the bulk download of a scenario that is not a WAN one (default DOWNLOAD_BYTES)
 * @returns {Promise<ScenarioResult>}
 */
export async function runScenario({ prefix, index, scenario, ca, delayLine, downloadBytes = DOWNLOAD_BYTES, log }) {
  const started = Date.now();
  const p2pTimeoutMs = scenario.p2pTimeoutMs ?? LAB_P2P_TIMEOUT_MS;
  const p2pEnabled = scenario.p2pEnabled ?? true;
  const measure = scenario.measure ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'wmlab-'));
  const nsPrefix = `${prefix}${index}-`;
  let stack;
  let reviewer;
  let delayLines = [];
  /** The delay lines' pids and counter files: the reviewer reads them around each phase. */
  let countedLines = [];
  const wan = scenario.wan ?? null;
  const row = {
    scenario: scenario.name,
    mode: scenario.mode ?? null,
    title: scenario.title,
    ok: false,
    transport: null,
    expected: scenario.expect,
    pair: null,
    firstByteMs: null,
    p2pReadyMs: null,
    p2pVerdict: null,
    p2pVerdictMs: null,
    downloadMBps: null,
    smallP50Ms: null,
    checks: {},
    failed: [],
    error: null,
    p2pTimeoutMs,
    durationMs: 0,
  };
  try {
    const topology = buildTopology({ prefix, index, name: scenario.name, routers: scenario.routers });
    log(`${scenario.name}: namespaces up (public ${topology.publicIp}, dev ${topology.hostIp.dev}, reviewer ${topology.hostIp.reviewer})`);
    if (scenario.blockP2p) for (const host of [topology.ns.dev, topology.ns.reviewer]) allowOnlyServerHttp(host, topology.publicIp);
    if (wan) {
      if (!delayLine) throw new Error(`${scenario.name} is a WAN scenario: it needs the compiled delay line`);
      ({ processes: delayLines, delayLines: countedLines } = await applyWan({ topology, wan, binary: delayLine, dir }));
      log(
        `${scenario.name}: delay lines up (RTT reviewer↔server ${wan.reviewerServer.rttMs} ms, dev↔server ${wan.devServer.rttMs} ms, reviewer↔dev ${wan.reviewerDev.rttMs} ms)`,
      );
    }
    const tls = issueServerCertificate(ca, { publicIp: topology.publicIp, index });
    const app = scenario.app ?? 'fixture';
    const slog = (s) => log(`${scenario.name}: ${s}`);
    stack = scenario.baseline
      ? await startBaselineStack({ baseline: scenario.baseline, topology, dir, tls, app, domain: LAB_DOMAIN, log: slog })
      : await startStack({ topology, dir, tls, app, p2pEnabled, p2pTimeoutMs, agentArgs: scenario.agentArgs, env: scenario.env, log: slog });
    // A private session is reached through its share link: the key in the fragment verifies the channel.
    if (scenario.private && !stack.link) throw new Error('a private session needs the share link with its key; the agent gave none');
    const openUrl = scenario.private ? stack.link : stack.url;
    row.url = stack.url;
    row.app = stack.app.kind;
    row.appModules = stack.app.modules;
    // No tunnel server behind the plain proxy: only the wire counts there.
    const counters = {
      publicNs: topology.publicNs,
      publicIp: topology.publicIp,
      port: SERVER_PORT,
      apexHost: LAB_DOMAIN,
      caFile: ca.caFile,
      metrics: !scenario.baseline,
    };
    const gate = join(dir, 'first-load-read');
    // Private: the server's relay counters are read around the reviewer's whole visit (they must not move).
    const bytesBefore = wan || scenario.private ? readServerBytes(counters) : null;
    const config = {
      url: openUrl,
      serverIp: stack.serverIp ?? topology.publicIp,
      nssHome: ca.nssHome(),
      p2pWaitMs: (scenario.watchFailureMs ? LAB_P2P_TIMEOUT_MS : p2pTimeoutMs) + VERDICT_GRACE_MS,
      settleMs: SETTLE_MS,
      downloadBytes: measure ? (wan ? WAN_TRANSFER_BYTES : downloadBytes) : 0,
      uploadBytes: measure && wan ? WAN_TRANSFER_BYTES : 0,
      smallCount: measure ? SMALL_REQUESTS : 0,
      reloads: Boolean(wan),
      // relay-only: the same reloads again under the smallest Service Worker, then with the smallest shell (floor-sw.mjs).
      swFloor: wan && scenario.swFloor && scenario.relayOnly && !scenario.baseline ? { worker: FLOOR_SW_PATH, shell: FLOOR_SHELL_SW_PATH } : null,
      watchFailureMs: scenario.watchFailureMs ?? 0,
      wingman: !scenario.baseline,
      baseline: scenario.baseline ?? null,
      hmr: stack.app.hmr
        ? {
            file: stack.app.hmr.file,
            selector: stack.app.hmr.selector,
            edits: [1, 2].map((v) => ({ text: stack.app.hmr.text(v), source: stack.app.hmr.source(v) })),
          }
        : null,
      // WAN: the reviewer stops after the first load until the lab has read the server's counters.
      firstLoadGate: wan ? { file: gate, timeoutMs: FIRST_LOAD_GATE_MS } : null,
      // WAN: the hosts' and delay lines' counters around each phase (phase-counters.mjs).
      counters: wan ? { delayLines: countedLines } : null,
    };
    reviewer = startInNamespace({ name: 'reviewer', ns: topology.ns.reviewer, command: process.execPath, args: [REVIEWER, JSON.stringify(config)], cwd: ROOT });
    const timeoutMs = REVIEWER_TIMEOUT_MS + (scenario.watchFailureMs ?? 0);
    let bytesAfterFirstLoad = null;
    if (config.firstLoadGate) {
      const mark = await reviewer.waitFor((e) => e.event === 'first-load' || e.event === 'result', timeoutMs, 'the first load');
      if (mark.event === 'first-load') {
        bytesAfterFirstLoad = readServerBytes(counters);
        writeFileSync(gate, 'read\n');
      }
    }
    const result = await reviewer.waitFor((e) => e.event === 'result', timeoutMs, 'a result');
    // The bulk floor over the same peer path, once the relay-only reviewer is done (bulk-floor/index.mjs).
    if (scenario.bulkFloor && scenario.relayOnly && !scenario.baseline && wan && config.downloadBytes > 0) {
      const hosts = Object.fromEntries(countedLines.map((l) => [l.role, l.pid]));
      const bytes = scenario.bulkFloorBytes ?? config.downloadBytes;
      row.bulkFloor = { ...(await measureBulkFloor({ topology, stunUrls: stack.stunUrls, hosts, bytes, dir })), bytes };
      const rates = Object.entries(row.bulkFloor.peers).map(
        ([n, l]) => `${n} pc ${l.down?.MBps ?? '—'} / ${l.up?.MBps ?? '—'}${l.error ? ` (${l.error})` : ''}`,
      );
      log(`${scenario.name}: bulk floor MB/s down / up: ${rates.join(', ')}${row.bulkFloor.error ? ` (${row.bulkFloor.error})` : ''}`);
    }
    // The set-up race over the same peer path (setup-race/index.mjs): signaling one way = reviewer → server → dev.
    if (scenario.setupRace && scenario.relayOnly && !scenario.baseline && wan) {
      const delayMs = (wan.reviewerServer.rttMs + wan.devServer.rttMs) / 2;
      row.setupRace = await measureSetupRace({ topology, stunUrls: stack.stunUrls, delayMs, dir });
      log(`${scenario.name}: ${formatSetupRace(row.setupRace)}`);
    }
    const { event: _event, checks = {}, ...measured } = result;
    Object.assign(row, measured);
    row.checks = { ...checks };
    if (result.error) row.error = result.error;
    if (bytesBefore) {
      const after = readServerBytes(counters);
      // App payload: the bulk transfers (the small requests, pages and reloads add a few hundred KiB).
      const payload = config.downloadBytes + config.uploadBytes;
      row.serverBytes = {
        wire: after.wire - bytesBefore.wire,
        relay: after.relay - bytesBefore.relay,
        signaling: after.signaling - bytesBefore.signaling,
        appPayload: payload,
      };
      row.serverWirePerAppByte = payload > 0 ? Math.round((row.serverBytes.wire / payload) * 1000) / 1000 : null;
      // After the first load (shell, SW, app, P2P set up): what the server host still carries per app byte.
      if (bytesAfterFirstLoad) {
        row.serverBytesAfterFirstLoad = {
          wire: after.wire - bytesAfterFirstLoad.wire,
          relay: after.relay - bytesAfterFirstLoad.relay,
          signaling: after.signaling - bytesAfterFirstLoad.signaling,
        };
        row.serverWirePerAppByteAfterFirstLoad = payload > 0 ? Math.round((row.serverBytesAfterFirstLoad.wire / payload) * 10000) / 10000 : null;
      }
    }
  } catch (err) {
    row.error = err instanceof Error ? err.message : String(err);
  } finally {
    await reviewer?.stop();
    if (stack?.p2pHostCrashes) row.p2pHostCrashes = stack.p2pHostCrashes();
    if (stack?.agentRequests?.length) row.agentRequests = stack.agentRequests;
    await stack?.stop();
    for (const p of delayLines) await p.stop();
    const problems = destroyNamespaces(listNamespaces(nsPrefix));
    if (problems.length > 0) row.error = [row.error, ...problems].filter(Boolean).join('; ');
    rmSync(dir, { recursive: true, force: true });
  }
  // The machine's load says how much to trust the rates (other jobs share its cores).
  row.loadAvg1m = Math.round(loadavg()[0] * 100) / 100;
  judge(row, scenario, p2pTimeoutMs, p2pEnabled);
  row.durationMs = Date.now() - started;
  return row;
}

/** Adds the scenario-level checks and decides `ok`. */
function judge(row, scenario, p2pTimeoutMs, p2pEnabled) {
  const c = row.checks;
  // A P2P session must get the shell (the tunnel server serves it on browser navigations).
  if (scenario.relayOnly) c.noShell = row.shell === false;
  else if (p2pEnabled) c.shellServed = row.shell === true;
  c.expectedTransport = row.transport !== null && scenario.expect.includes(row.transport);
  if (scenario.p2pRequired) c.p2pUsable = row.p2pReadyMs !== null;
  // "P2P is an upgrade, never a gate": the app's first byte must not wait for ICE to finish or time out.
  // A private session is the exception by design: its app comes only over the verified channel.
  const iceDeadline = Math.min(p2pTimeoutMs, LAB_P2P_TIMEOUT_MS);
  if (!scenario.private) c.firstByteBeforeIceTimeout = typeof row.firstByteMs === 'number' && row.firstByteMs < iceDeadline;
  if (scenario.private) {
    // The channel ends at the holder of the link key: the shell's status and its badge say so.
    c.verifiedChannel = row.p2pVerified === true && /^P2P · verified\b/.test(row.badgeAfterSmall ?? '');
    // Every app byte went over that channel: the tunnel server relayed nothing during the visit.
    c.noServerRelay = row.serverBytes?.relay === 0;
  }
  // The instrument: no request can be faster than the round trip of the path it took.
  if (scenario.wan && typeof row.smallP50Ms === 'number') c.delayPresent = row.smallP50Ms >= pathRttMs(scenario.wan, row.transport);
  if (row.error) c.noError = false;
  row.failed = Object.entries(c)
    .filter(([, pass]) => pass !== true)
    .map(([name]) => name);
  row.ok = row.failed.length === 0;
}
