#!/usr/bin/env node
/**
 * The reviewer: runs inside the reviewer namespace (`ip netns exec`), starts
 * headless Debian Chromium with default WebRTC settings (no media
 * permission, so host candidates are hidden behind mDNS names, as for a real
 * reviewer), opens the session URL and measures:
 * first app byte, the app's ready marker, time to usable P2P, the selected
 * candidate pair, a bulk download and small-request latency; with WAN
 * measures on, an upload and two reloads (warm, and after the Service Worker
 * was stopped), and around each of those phases the transport figures of
 * phase-counters.mjs (`phases`; with `config.counters`) and each load's
 * stall figures (stalls.mjs). Prints one line:
 * {"event":"result", ...}. Argument: one JSON object (see parseConfig).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchLabChromium } from './chromium.mjs';
import {
  appReadyAt,
  armTextWatch,
  badgeText,
  documentTiming,
  download,
  navigationMilestones,
  readPeers,
  recordPeerConnections,
  registerWorker,
  requestTimes,
  requestTimeline,
  resourceSummary,
  shellState,
  smallRequests,
  swRouteCounts,
  textWatchResult,
  transportCounters,
  upload,
  widenResourceTimingBuffer,
} from './in-page.mjs';
import { patternSha256 } from './pattern.mjs';
import { createPhaseMeter } from './phase-counters.mjs';
import { stallFigures } from './stalls.mjs';

/**
 * The app must show within this: the fixture app takes well under a second on veth; the Vite
 * app's 324 modules over a relay at 300 ms RTT took over 20 s on a loaded 2-core machine.
 */
const APP_WAIT_MS = 120_000;
/** How long the Service Worker has to answer a count of its routes (it answers in well under 100 ms when running). */
const ROUTES_WAIT_MS = 1000;
/** How long a Service Worker the lab registers may take to control the page. */
const WORKER_WAIT_MS = 10_000;
/** Poll interval of in-page state. */
const POLL_MS = 25;
/** One 20–50 MiB transfer; the data channel under 2 % loss (lossy-mobile) moves 0.1–0.3 MB/s: 20 MiB in up to ~3.5 min. */
const TRANSFER_TIMEOUT_MS = 300_000;
/** An edited module shows in well under a second on any path the lab builds; 20 s says it never came. */
const HMR_TIMEOUT_MS = 20_000;

function parseConfig(text) {
  const c = JSON.parse(text ?? '');
  const url = new URL(c.url);
  if (url.protocol !== 'https:' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(c.serverIp)) throw new Error('config needs url (https) and serverIp (IPv4)');
  if (typeof c.nssHome !== 'string' || !c.nssHome.startsWith('/'))
    throw new Error('config needs nssHome: a home directory whose NSS database trusts the lab CA');
  if (c.hmr != null && !(typeof c.hmr.file === 'string' && typeof c.hmr.selector === 'string' && Array.isArray(c.hmr.edits) && c.hmr.edits.length >= 2))
    throw new Error('config.hmr needs file, selector and two edits');
  const lines = c.counters?.delayLines;
  if (
    c.counters != null &&
    !(Array.isArray(lines) && lines.every((l) => Number.isInteger(l.pid) && typeof l.statsFile === 'string' && Array.isArray(l.targets)))
  )
    throw new Error('config.counters needs delayLines: [{ role, pid, statsFile, targets }]');
  if (c.swFloor != null && ![c.swFloor.worker, c.swFloor.shell].every((p) => typeof p === 'string' && p.startsWith('/')))
    throw new Error('config.swFloor needs worker and shell: paths');
  for (const k of ['p2pWaitMs', 'downloadBytes', 'smallCount', 'settleMs', 'uploadBytes'])
    if (!Number.isInteger(c[k]) || c[k] < 0) throw new Error(`config.${k} must be a non-negative integer`);
  return { ...c, origin: url.origin, apex: url.hostname.split('.').slice(1).join('.') };
}

/**
 * A relay route the Service Worker chose while P2P was up (route-decision.ts
 * rules 4–6, and the relay leg of a raced download): its path choice, not a
 * channel missing.
 */
const RELAY_CHOICE_ROUTE = /^relay; reason=(faster|probe|turn-default|p2p-stalls|loss-probe|race)$/;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const config = parseConfig(process.argv[2]);
  const profile = mkdtempSync(join(tmpdir(), 'wmlab-chromium-'));
  const result = { event: 'result', error: null, checks: {} };
  let context;
  try {
    context = await launchLabChromium(profile, {
      serviceWorkers: 'allow',
      // Chromium on Linux reads trusted CAs from $HOME/.pki/nssdb: the lab CA is there, as a real CA is in a real browser.
      env: { ...process.env, HOME: config.nssHome },
      // No DNS in the lab: the apex and every session host resolve to the tunnel server.
      args: [`--host-resolver-rules=MAP ${config.apex} ${config.serverIp}, MAP *.${config.apex} ${config.serverIp}`],
    });
    await context.addInitScript(recordPeerConnections);
    await context.addInitScript(widenResourceTimingBuffer);
    const page = context.pages()[0] ?? (await context.newPage());
    const meter = createPhaseMeter(config.counters ?? null, () => page.evaluate(transportCounters));
    result.phases = meter.phases;
    const appDocs = [];
    // The requests in flight, for the error of a load that does not end (waitForApp).
    context.on('request', (req) => inFlight.set(req, Date.now()));
    context.on('requestfinished', (req) => inFlight.delete(req));
    context.on('requestfailed', (req) => {
      inFlight.delete(req);
      failed.push(req);
      if (failed.length > IN_FLIGHT_NAMED) failed.shift();
    });
    page.on('response', (res) => {
      const req = res.request();
      if (req.isNavigationRequest() && req.resourceType() === 'document')
        appDocs.push({
          main: res.frame() === page.mainFrame(),
          status: res.status(),
          transport: res.headers()['x-wingman-transport'] ?? null,
          fromServiceWorker: res.fromServiceWorker(),
        });
    });

    await meter.begin('cold');
    await page.goto(config.url, { waitUntil: 'commit', timeout: APP_WAIT_MS });
    const app = await waitForApp(page);
    const top = await page.evaluate(documentTiming);
    const inApp = await app.evaluate(documentTiming);
    result.shell = top.shell;
    // A Service Worker needs a secure context: here from a trusted certificate, no browser flag.
    result.secureContext = top.secureContext;
    result.firstByteMs = inApp.responseStartAbs === null ? null : Math.round(inApp.responseStartAbs - top.timeOrigin);
    const appDoc = appDocs.find((d) => d.main === !top.shell && d.status !== 0) ?? null;
    result.appDocument = appDoc;
    result.checks.appLoaded = inApp.pageName === 'home' && (appDoc === null || appDoc.status === 200);
    const readyAt = await app.evaluate(appReadyAt);
    // Cold first visit: navigation start → the app's ready marker (shell, SW install, app document, its script).
    result.coldMs = readyAt === null ? null : Math.round(readyAt - top.timeOrigin);
    result.coldResources = await app.evaluate(resourceSummary);
    if (process.env.WINGMAN_LAB_REQUESTS) result.coldTimeline = await app.evaluate(requestTimeline);
    result.coldAppDocument = relativeMilestones(await app.evaluate(navigationMilestones), top.timeOrigin);
    if (top.shell) result.coldShellDocument = relativeMilestones(await page.evaluate(navigationMilestones), top.timeOrigin);

    // P2P: wait for the channel, or for the shell's first verdict against it.
    const p2p = await waitForP2P(page, config.p2pWaitMs, top.shell);
    Object.assign(result, p2p);
    if (config.settleMs > 0) await sleep(config.settleMs);
    // The cold visit's phase: navigation → the app ready and P2P settled (or its verdict).
    await meter.end('cold', { stalls: stallFigures(await app.evaluate(requestTimes)) });
    if (config.firstLoadGate) await firstLoadGate(config.firstLoadGate);

    const peers = top.shell ? await page.evaluate(readPeers) : [];
    result.path = config.wingman === false ? { transport: config.baseline ?? 'tls-proxy', pair: null } : describePath(peers, result.p2pReadyMs !== null);
    result.transport = result.path.transport;
    result.pair = result.path.pair;
    result.candidates = summarizeCandidates(peers);
    result.peerStates = peers.map((p) => p.states);

    // Through Wingman every response says what carried it; through the plain TLS proxy none does.
    const expectHeader = config.wingman === false ? null : result.p2pReadyMs !== null ? 'p2p' : 'relay';
    // With P2P up, the Service Worker sends a class of requests over the relay when it measured it faster there
    // (sw/path-choice.ts; a first large download is raced over both paths): the shell's badge then ends
    // "small via relay", "bulk via relay" or both, and the relay is an expected transport for that class.
    const readBadge = async () => (top.shell ? await page.evaluate(badgeText).catch(() => null) : null);
    const viaRelay = (badge, cls) => expectHeader === 'p2p' && new RegExp(`\\b${cls}\\b.* via relay$`).test(badge ?? '');
    // Or the response's own route header names the Service Worker's path choice (route-decision.ts rules 4–6):
    // the badge hears of a choice by a message of its own, which may come after the transfer ended.
    const relayChosen = (route) => expectHeader === 'p2p' && RELAY_CHOICE_ROUTE.test(route ?? '');
    // HMR on the page as first opened (its WebSocket was opened while P2P was still coming up).
    if (config.hmr) result.hmrFirstPage = await hmrUpdate(app, config.hmr, config.hmr.edits[0]);
    if (config.downloadBytes > 0) {
      const routes = () => (top.shell ? page.evaluate(swRouteCounts, { timeoutMs: ROUTES_WAIT_MS }).catch(() => null) : null);
      const routesBefore = await routes();
      await meter.begin('download');
      const d = await app.evaluate(download, { bytes: config.downloadBytes, timeoutMs: TRANSFER_TIMEOUT_MS });
      await meter.end('download');
      // A body the channel stalled or failed under finishes over the relay (`relay body-stalled`, `relay channel-failed`).
      result.downloadRoutes = routesBetween(routesBefore, await routes()).swRoutes ?? null;
      result.downloadMBps = Math.round((d.bytes / 1e6 / (d.ms / 1000)) * 10) / 10;
      result.downloadTransport = d.transport;
      result.downloadRoute = d.route;
      result.checks.download = d.status === 200 && d.bytes === config.downloadBytes && d.sha === patternSha256(config.downloadBytes);
      // With P2P up, a large download may go over the relay when the Service Worker measured it faster there (its
      // first one is raced over both paths); the shell's badge then says "bulk via relay".
      // Its first download is classed small (an unknown URL) or raced as bulk.
      result.badgeAfterDownload = await readBadge();
      result.checks.downloadTransport =
        d.transport === expectHeader || (d.transport === 'relay' && (viaRelay(result.badgeAfterDownload, '(small|bulk)') || relayChosen(d.route)));
    }
    if (config.smallCount > 0) {
      await meter.begin('small');
      const s = await app.evaluate(smallRequests, { path: '/api/hello', count: config.smallCount, warmup: 5, timeoutMs: 60_000 });
      await meter.end('small');
      result.smallP50Ms = Math.round(s.p50Ms * 100) / 100;
      result.smallP99Ms = Math.round(s.p99Ms * 100) / 100;
      result.smallTransports = s.transports;
      result.smallSamplesMs = s.samplesMs;
      result.checks.smallRequests = s.bad === 0;
      result.badgeAfterSmall = await readBadge();
      // Small requests on the relay still go over P2P now and then (a re-probe), never the other way round.
      result.checks.smallTransport = viaRelay(result.badgeAfterSmall, 'small')
        ? (s.transports.relay ?? 0) + (s.transports.p2p ?? 0) === s.count && (s.transports.relay ?? 0) > 0
        : Object.keys(s.transports).length === 1 && s.transports[expectHeader ?? 'none'] === s.count;
    }
    if (config.uploadBytes > 0) {
      // What the shell said just before: an upload over the relay while P2P is up needs this to be explained.
      if (top.shell) result.statusBeforeUpload = (await page.evaluate(shellState).catch(() => null))?.status ?? null;
      await meter.begin('upload');
      const u = await app.evaluate(upload, { bytes: config.uploadBytes, timeoutMs: TRANSFER_TIMEOUT_MS });
      await meter.end('upload');
      result.uploadMBps = Math.round((config.uploadBytes / 1e6 / (u.ms / 1000)) * 10) / 10;
      result.uploadTransport = u.transport;
      result.uploadRoute = u.route;
      result.uploadStatus = u.status;
      result.checks.upload = u.status === 200 && u.intact;
      result.badgeAfterUpload = await readBadge();
      result.checks.uploadTransport =
        u.transport === expectHeader || (u.transport === 'relay' && (viaRelay(result.badgeAfterUpload, '(small|bulk)') || relayChosen(u.route)));
    }
    // The pair may have moved during the transfer (ICE keeps checking); report the final one.
    if (result.p2pReadyMs !== null) {
      const after = describePath(await page.evaluate(readPeers), true);
      if (after.transport !== 'unknown') result.path = after;
      result.transport = result.path.transport;
      result.pair = result.path.pair;
    }
    // Where the shell stands after the measurements (a channel may have dropped on the way).
    if (top.shell) result.finalStatus = (await page.evaluate(shellState).catch(() => null))?.status ?? null;
    if (config.reloads) {
      const trace = process.env.WINGMAN_LAB_TRACE ? await startTrace(context, page) : null;
      result.warmReload = await reloadOnce(page, appDocs, config.p2pWaitMs, meter, 'warmReload');
      if (trace) await trace.stop(`${process.env.WINGMAN_LAB_TRACE}-${Date.now()}.json`);
      // HMR on a page opened once the session was settled (P2P up, when it comes up).
      if (config.hmr) result.hmr = await hmrUpdate(await waitForApp(page), config.hmr, config.hmr.edits[1]);
      await stopServiceWorkers(context, page);
      result.swStoppedReload = await reloadOnce(page, appDocs, config.p2pWaitMs, meter, 'swStoppedReload');
      if (config.swFloor) {
        // A figure of its own: a floor that fails (a reload whose app does not show) says so here, not in the row's checks.
        result.swFloor = {};
        await floorReloads(context, page, appDocs, config, meter, result.swFloor).catch((err) => {
          result.swFloor.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
        });
      }
    }
    if (config.watchFailureMs > 0) result.iceFailure = await watchIceFailure(page, config.watchFailureMs);
  } catch (err) {
    result.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    // Where the shell and its Service Worker stood when it failed: a stall says which side held it.
    const page = context?.pages()[0];
    if (page) {
      result.shellAtError = await page.evaluate(shellState).catch(() => null);
      result.routesAtError = await page.evaluate(swRouteCounts, { timeoutMs: ROUTES_WAIT_MS }).catch(() => null);
    }
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * Edits a module of the developer's app (the file the dev server watches;
 * the namespaces share one file system) and measures the edit → the text in
 * the reviewer's page. `hot`: the same document (a hot update, not a reload).
 */
async function hmrUpdate(frame, hmr, edit) {
  await frame.evaluate(armTextWatch, { selector: hmr.selector, text: edit.text, timeoutMs: HMR_TIMEOUT_MS });
  const editedAt = performance.timeOrigin + performance.now();
  writeFileSync(hmr.file, edit.source);
  const r = await frame.evaluate(textWatchResult).catch((err) => ({ at: null, sameDocument: false, error: String(err?.message ?? err).split('\n')[0] }));
  return { ms: r.at === null ? null : Math.round(r.at - editedAt), hot: r.sameDocument, ...(r.error ? { error: r.error } : {}) };
}

/**
 * Tells the lab the first load is done (it reads the server's counters
 * then), and waits until it has (the file `gate.file` appears).
 */
async function firstLoadGate(gate) {
  process.stdout.write(`${JSON.stringify({ event: 'first-load' })}\n`);
  const deadline = Date.now() + gate.timeoutMs;
  while (!existsSync(gate.file)) {
    if (Date.now() > deadline) throw new Error(`the lab did not read the server's counters within ${gate.timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/** Reads of a trace stream at most (1 MiB each): a trace of one reload is tens of MiB. */
const TRACE_MAX_READS = 1024;

/**
 * With WINGMAN_LAB_TRACE=<path prefix>: a Chromium trace (every process and
 * thread, with V8's sampling profiler) of the warm reload, written to
 * `<prefix>-<ms since the epoch>.json` for DevTools' Performance panel or
 * Perfetto. Tracing slows the reload it records: its figures are not the
 * run's to compare.
 */
async function startTrace(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Tracing.start', {
    transferMode: 'ReturnAsStream',
    traceConfig: {
      includedCategories: [
        'devtools.timeline',
        'v8.execute',
        'disabled-by-default-devtools.timeline',
        'disabled-by-default-v8.cpu_profiler',
        'blink.user_timing',
        'ServiceWorker',
        'toplevel',
        'loading',
      ],
    },
  });
  return {
    async stop(file) {
      const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
      await cdp.send('Tracing.end');
      const { stream } = await done;
      const parts = [];
      for (let i = 0; i < TRACE_MAX_READS; i++) {
        const r = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
        parts.push(r.base64Encoded ? Buffer.from(r.data, 'base64').toString() : r.data);
        if (r.eof) break;
      }
      await cdp.send('IO.close', { handle: stream });
      writeFileSync(file, parts.join(''));
      await cdp.detach();
    },
  };
}

/**
 * The reload floors (floor-sw.mjs): the same two reloads as the row's, under
 * the smallest Service Worker, then under the smallest worker with a shell,
 * into `out.worker` and `out.shell`.
 */
async function floorReloads(context, page, appDocs, config, meter, out) {
  for (const [key, path] of [
    ['worker', config.swFloor.worker],
    ['shell', config.swFloor.shell],
  ]) {
    const app = await waitForApp(page);
    await app.evaluate(registerWorker, { path, timeoutMs: WORKER_WAIT_MS });
    // Once unmeasured: a warm reload follows loads the worker has already served (its first navigation is slower).
    await reloadOnce(page, appDocs, config.p2pWaitMs, meter, `${key}FloorFirstReload`, true);
    const warmReload = await reloadOnce(page, appDocs, config.p2pWaitMs, meter, `${key}FloorWarmReload`, true);
    await stopServiceWorkers(context, page);
    out[key] = { warmReload, swStoppedReload: await reloadOnce(page, appDocs, config.p2pWaitMs, meter, `${key}FloorSwStoppedReload`, true) };
  }
}

/** Stops every Service Worker of the browser: Chromium stops idle workers after ~30 s; this is that state, without the wait. */
async function stopServiceWorkers(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/**
 * Reloads the page: navigation start → the app's ready marker, what carried
 * the app's document, and (with a shell) when P2P was usable again; the
 * reload is `meter`'s phase `phase` (its stall figures with it). `floor`:
 * under one of the lab's floor workers (floor-sw.mjs), whose shell is not
 * Wingman's.
 */
async function reloadOnce(page, appDocs, p2pWaitMs, meter, phase, floor = false) {
  const seen = appDocs.length;
  // The Service Worker's counts before (none when it is stopped: a restarted one counts from zero).
  const routesBefore = floor ? null : await page.evaluate(swRouteCounts, { timeoutMs: ROUTES_WAIT_MS }).catch(() => null);
  await meter.begin(phase);
  // The new document's app, not the old one's (a frame may outlive the commit for a moment).
  const notBefore = Date.now();
  await page.reload({ waitUntil: 'commit', timeout: APP_WAIT_MS });
  const app = await waitForApp(page, notBefore);
  const top = await page.evaluate(documentTiming);
  // With a shell the app is in its frame (window.__wingman may not be set yet at this point).
  const shell = app !== page.mainFrame();
  const readyAt = await app.evaluate(appReadyAt);
  const doc = appDocs.slice(seen).find((d) => d.main === !shell && d.status !== 0) ?? null;
  const resources = await app.evaluate(resourceSummary);
  if (process.env.WINGMAN_LAB_REQUESTS) resources.timeline = await app.evaluate(requestTimeline);
  const appDocument = relativeMilestones(await app.evaluate(navigationMilestones), top.timeOrigin);
  const shellDocument = shell ? relativeMilestones(await page.evaluate(navigationMilestones), top.timeOrigin) : null;
  const stalls = stallFigures(await app.evaluate(requestTimes));
  // A floor's shell (floor-sw.mjs) is not Wingman's: no channel, no routes to ask for.
  const p2p = await waitForP2P(page, p2pWaitMs, shell && !floor);
  await meter.end(phase, { stalls });
  const routesAfter = shell && !floor ? await page.evaluate(swRouteCounts, { timeoutMs: ROUTES_WAIT_MS }).catch(() => null) : null;
  return {
    ms: readyAt === null ? null : Math.round(readyAt - top.timeOrigin),
    resources,
    ...routesBetween(routesBefore, routesAfter),
    appDocument,
    shellDocument,
    timeline: p2p.timeline,
    shell,
    appDocVia: doc?.transport ?? null,
    fromServiceWorker: doc?.fromServiceWorker ?? null,
    p2pReadyMs: p2p.p2pReadyMs,
  };
}

/**
 * The Service Worker's requests by route between two counts (`swRoutes`:
 * `after` minus `before`, the routes that moved); nothing without a Service Worker.
 */
function routesBetween(before, after) {
  if (!after) return {};
  const swRoutes = Object.fromEntries(Object.entries(after).flatMap(([route, n]) => (n > (before?.[route] ?? 0) ? [[route, n - (before?.[route] ?? 0)]] : [])));
  return { swRoutes };
}

/** Milestones (absolute ms) as ms from `origin` (the top-level navigation's start), null where absent. */
function relativeMilestones(m, origin) {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === null ? null : Math.round(v - origin)]));
}

/**
 * The frame showing the app: the shell's child frame, or the page itself
 * without a shell; with `notBefore` (ms since the epoch), one whose ready
 * marker ran after that time.
 */
async function waitForApp(page, notBefore = 0) {
  const deadline = Date.now() + APP_WAIT_MS;
  for (;;) {
    for (const frame of [page.mainFrame().childFrames()[0], page.mainFrame()]) {
      if (!frame) continue;
      const [name, readyAt] = await frame.evaluate(() => [window.pageName ?? null, window.appReadyAt ?? 0]).catch(() => [null, 0]);
      if (name === 'home' && readyAt >= notBefore) return frame;
    }
    if (Date.now() > deadline) throw new Error(`the app did not show within ${APP_WAIT_MS} ms (page at ${page.url()}; ${describeInFlight()})`);
    await sleep(POLL_MS);
  }
}

/** Requests the browser has started and not finished, with when each started (ms since the epoch). */
const inFlight = new Map();
/** The last requests that failed (at most IN_FLIGHT_NAMED), oldest first. */
const failed = [];
/** How many in-flight and failed requests a load's error names. */
const IN_FLIGHT_NAMED = 5;

/** The requests still in flight, the oldest first, and the last that failed: what a load that does not end waits for, or lost. */
function describeInFlight() {
  const now = Date.now();
  const oldest = [...inFlight]
    .sort((a, b) => a[1] - b[1])
    .slice(0, IN_FLIGHT_NAMED)
    .map(
      ([req, at]) =>
        `${req.method()} ${new URL(req.url()).pathname} ${req.resourceType()}${req.serviceWorker() ? ' (from the worker)' : ''} for ${now - at} ms`,
    );
  const lastFailed = failed.map((req) => `${req.method()} ${new URL(req.url()).pathname} ${req.resourceType()}: ${req.failure()?.errorText ?? 'failed'}`);
  return `${inFlight.size} request(s) in flight${oldest.length ? `: ${oldest.join(', ')}` : ''}; last failed: ${lastFailed.join(', ') || 'none'}`;
}

/**
 * Polls the shell's status until P2P is up or the shell reports a reason it
 * is not (ICE timeout, ICE failed, disabled…), at most `waitMs`.
 */
async function waitForP2P(page, waitMs, hasShell) {
  if (!hasShell) return { p2pReadyMs: null, p2pVerdict: 'no shell: relay only', p2pVerdictMs: null, timeline: null };
  const deadline = Date.now() + waitMs;
  let last = null;
  for (;;) {
    last = (await page.evaluate(shellState).catch(() => null)) ?? last;
    const s = last?.status;
    if (s?.transport === 'p2p')
      return {
        p2pReadyMs: s.p2pReadyMs ?? null,
        p2pVerdict: 'p2p',
        p2pVerdictMs: s.p2pReadyMs ?? null,
        p2pVerified: s.verified === true,
        connectMs: s.connectMs,
        timeline: last.timeline,
      };
    // The shell's logged errors say why (a channel's close carries its cause there).
    if (s && s.reason !== 'connecting')
      return { p2pReadyMs: null, p2pVerdict: s.reason, p2pVerdictMs: last.nowMs, p2pErrors: last.errors ?? [], timeline: last.timeline };
    if (Date.now() > deadline)
      return { p2pReadyMs: null, p2pVerdict: `still ${s?.reason ?? 'unknown'} after ${waitMs} ms`, p2pVerdictMs: null, timeline: last?.timeline ?? null };
    await sleep(POLL_MS);
  }
}

/**
 * What carried the app once P2P was up, from the selected candidate pair:
 * relay-udp / relay-tcp when either end is a TURN relay candidate (the
 * protocol is how this browser reaches its TURN server), srflx when either
 * end was learned through a NAT (srflx, or prflx: learned from a check), host
 * when both are host candidates; wingman-relay when P2P never became usable.
 */
function describePath(peers, p2pReady) {
  if (!p2pReady) return { transport: 'wingman-relay', pair: null };
  const sel = [...peers].reverse().find((p) => p.selected)?.selected;
  if (!sel?.local || !sel?.remote) return { transport: 'unknown', pair: null };
  const { local, remote } = sel;
  let transport;
  if (local.type === 'relay') transport = `relay-${local.relayProtocol ?? 'udp'}`;
  else if (remote.type === 'relay') transport = 'relay-udp';
  else if ([local.type, remote.type].some((t) => t === 'srflx' || t === 'prflx')) transport = 'srflx';
  else transport = 'host';
  const pair = `${local.type}${local.relayProtocol ? `(${local.relayProtocol})` : ''} ${local.address}:${local.port} → ${remote.type} ${remote.address}:${remote.port} ${local.protocol}`;
  return { transport, pair, rttMs: sel.rttMs };
}

/** Candidate types this browser gathered and received (a host candidate with a `.local` address is mDNS-hidden). */
function summarizeCandidates(peers) {
  const count = (list) => {
    const out = {};
    for (const c of list) {
      const parts = c.split(/\s+/);
      const type = / typ (\w+)/.exec(c)?.[1] ?? '?';
      // The agent's predicted public candidates (docs/PROTOCOL.md §Predicted public candidates) have a foundation starting with "p".
      const note = type === 'host' && parts[4]?.endsWith('.local') ? '(mdns)' : /^candidate:p/.test(parts[0] ?? '') ? '(predicted)' : '';
      const key = `${type}${note}/${parts[2]?.toLowerCase()}`;
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  };
  const remote = peers.flatMap((p) => p.remote);
  // The agent's predictions against its gathered public candidates: `confirmed`, one named the same
  // address and port; `contradicted`, one mapped from the same local port named another. (WebRTC may
  // stop gathering once a pair works, so a prediction may also have no gathered candidate to meet.)
  const fields = (c) => c.split(/\s+/);
  const endpoint = (c) => fields(c).slice(4, 6).join(':');
  const relatedPort = (c) => /\brport (\d+)/.exec(c)?.[1];
  const predicted = remote.filter((c) => /^candidate:p/.test(c) && / typ srflx /.test(c));
  const gathered = remote.filter((c) => !/^candidate:p/.test(c) && / typ srflx /.test(c));
  const confirmed = predicted.filter((p) => gathered.some((g) => endpoint(g) === endpoint(p)));
  const contradicted = predicted.filter((p) => gathered.some((g) => relatedPort(g) === fields(p)[5] && endpoint(g) !== endpoint(p)));
  return {
    local: count(peers.flatMap((p) => p.local)),
    remote: count(remote),
    predicted: { sent: predicted.length, confirmed: confirmed.length, contradicted: contradicted.length },
  };
}

/** Tuning: how long until Chromium itself declares the peer connection failed (the product's timeout set out of the way). */
async function watchIceFailure(page, waitMs) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const peers = await page.evaluate(readPeers).catch(() => []);
    const failed = peers.flatMap((p) => p.states.filter(([, kind, state]) => kind === 'connection' && state === 'failed').map(([t]) => t - p.createdMs));
    if (failed.length > 0) return { failedAfterMs: Math.min(...failed), peers: peers.length };
    if (Date.now() > deadline) return { failedAfterMs: null, peers: peers.length, note: `no 'failed' within ${waitMs} ms` };
    await sleep(500);
  }
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ event: 'result', error: String(err?.message ?? err) })}\n`);
  process.exitCode = 1;
});
