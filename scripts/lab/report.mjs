/**
 * The lab's human output: one table row per scenario, then one line per
 * failed check, plus the observations (candidates, ICE failure times) that
 * the numbers alone do not show.
 */

import { WAN_SCENARIOS } from './scenarios.mjs';
import { formatFloor } from './bulk-floor/figures.mjs';
import { formatSetupFloor, setupFloor } from './setup-floor.mjs';

const fmt = (v, digits = 0) => (typeof v === 'number' ? v.toFixed(digits) : '—');

/**
 * @param {import('./run-scenario.mjs').ScenarioResult[]} rows
 * @param {number} [downloadMiB] the size of the scenarios' bulk download (--download-mib)
 * @returns {string} a Markdown table (readable in a terminal, pasteable into docs/lab.md)
 */
export function formatTable(rows, downloadMiB = 50) {
  const head = [
    'scenario',
    'path selected',
    'expected',
    'first app byte ms',
    'app doc via',
    'P2P usable ms',
    `${downloadMiB} MiB MB/s`,
    'small p50 ms',
    'checks',
  ];
  const body = rows.map((r) => [
    r.mode ? `${r.scenario} [${r.mode}]` : r.scenario,
    r.transport ?? '—',
    r.expected.join(' or '),
    fmt(r.firstByteMs),
    r.appDocument?.transport ?? '—',
    r.p2pReadyMs === null ? `— (${r.p2pVerdict ?? 'n/a'}${typeof r.p2pVerdictMs === 'number' ? ` at ${r.p2pVerdictMs} ms` : ''})` : fmt(r.p2pReadyMs),
    fmt(r.downloadMBps, 1),
    fmt(r.smallP50Ms, 1),
    r.ok ? 'all passed' : `FAILED: ${r.failed.join(', ')}`,
  ]);
  return markdownTable(head, body);
}

function markdownTable(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/**
 * The WAN comparison: one row per scenario and mode.
 * @param {Array<Record<string, any>>} rows
 */
export function formatWanTable(rows) {
  const head = [
    'scenario',
    'mode',
    'path',
    'cold visit ms',
    'warm reload ms',
    'reload, SW stopped ms',
    'HMR ms (first page / reloaded)',
    'API p50 / p99 ms',
    '20 MiB down MB/s',
    '20 MiB up MB/s',
    'server B / app B (after 1st load)',
    'checks',
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.mode,
    r.transport ?? '—',
    fmt(r.coldMs),
    fmt(r.warmReload?.ms),
    fmt(r.swStoppedReload?.ms),
    `${fmt(r.hmrFirstPage?.ms)} / ${fmt(r.hmr?.ms)}`,
    `${fmt(r.smallP50Ms)} / ${fmt(r.smallP99Ms)}`,
    fmt(r.downloadMBps, 1),
    fmt(r.uploadMBps, 1),
    `${fmt(r.serverWirePerAppByte, 3)} (${fmt(r.serverWirePerAppByteAfterFirstLoad, 4)})`,
    r.ok ? 'all passed' : `FAILED: ${r.failed.join(', ')}`,
  ]);
  return markdownTable(head, body);
}

/** Details worth reading under the table: selected pairs, candidates, errors, ICE failure times. */
export function formatDetails(rows) {
  const out = [];
  for (const r of rows) {
    const parts = [];
    if (r.kind === 'delay-check' && r.measured) parts.push(`configured ${JSON.stringify(r.configured)}, measured ${JSON.stringify(r.measured)}`);
    if (r.serverBytes) parts.push(`server bytes ${JSON.stringify(r.serverBytes)}`);
    if (r.p2pReadyMs != null && r.downloadTransport === 'relay') parts.push(`download went over the relay; badge after it "${r.badgeAfterDownload}"`);
    if (r.p2pReadyMs != null && r.smallTransports?.relay)
      parts.push(`small requests ${JSON.stringify(r.smallTransports)}; badge after them "${r.badgeAfterSmall}"`);
    if (r.statusBeforeUpload && r.uploadTransport !== 'p2p')
      parts.push(`upload went over ${r.uploadTransport}; shell status just before it ${JSON.stringify(r.statusBeforeUpload)}`);
    if (r.warmReload) parts.push(`reloads: warm ${JSON.stringify(r.warmReload)}, SW stopped ${JSON.stringify(r.swStoppedReload)}`);
    if (r.pair) parts.push(`pair ${r.pair}${typeof r.path?.rttMs === 'number' ? ` (rtt ${r.path.rttMs} ms)` : ''}`);
    if (r.timeline) {
      const marks = ['script', 'attempt', 'sw-controls', 'frame-load', 'channel-open', 'ready'].filter((m) => typeof r.timeline[m] === 'number');
      parts.push(`shell ${marks.map((m) => `${m} ${Math.round(r.timeline[m])}`).join(', ')} ms`);
    }
    if (r.candidates) parts.push(`candidates gathered ${JSON.stringify(r.candidates.local)}, received ${JSON.stringify(r.candidates.remote)}`);
    if (r.iceFailure)
      parts.push(
        r.iceFailure.failedAfterMs === null
          ? `Chromium never reported ICE failed (${r.iceFailure.note})`
          : `Chromium reported ICE failed after ${r.iceFailure.failedAfterMs} ms`,
      );
    if (r.error) parts.push(`error: ${r.error}`);
    out.push(`- ${r.scenario}${r.mode ? ` [${r.mode}]` : ''} (${r.title}): ${parts.join('; ') || 'no details'}`);
  }
  return out.join('\n');
}

/** Columns compared across modes: [name, value of a row, which way is better]. */
const COLUMNS = [
  ['cold visit', (r) => r.coldMs, 'lower'],
  ['warm reload', (r) => r.warmReload?.ms, 'lower'],
  ['reload, SW stopped', (r) => r.swStoppedReload?.ms, 'lower'],
  ['HMR (first page)', (r) => r.hmrFirstPage?.ms, 'lower'],
  ['HMR (reloaded page)', (r) => r.hmr?.ms, 'lower'],
  ['API p50', (r) => r.smallP50Ms, 'lower'],
  ['API p99', (r) => r.smallP99Ms, 'lower'],
  ['20 MiB down', (r) => r.downloadMBps, 'higher'],
  ['20 MiB up', (r) => r.uploadMBps, 'higher'],
];
/** far-server: a load via P2P may take at most this multiple of the same load straight over the peer path (the direct row). */
const FLOOR_RATIO_GOAL = 1.3;
/** far-server: a small fetch via P2P may cost at most this over the direct row's p50, ms. */
const SMALL_FETCH_OVER_FLOOR_MS = 3;
/** lossy-mobile: every load and the API p99 via P2P at most this multiple of relay-only. */
const LOSSY_RATIO_GOAL = 1.0;
/** Slack of "never worse than relay-only": one run per cell on a shared machine. */
const NEVER_WORSE_SLACK = 1.1;
/** After the first load, the server host carries at most this share of the app's bytes in a P2P session; per scenario where it differs. */
const SERVER_SHARE_GOAL = 0.05;
const SERVER_SHARE_GOALS = { 'same-lan-cloud-server': 0.01 };

/** The three loads, with where each keeps its shell's timeline (the channel-ready mark), its app and shell documents, and whether it is a first visit. */
const LOADS = [
  [
    'cold visit',
    (r) => ({
      ms: r.coldMs,
      ready: r.timeline?.ready,
      timeline: r.timeline,
      appDocument: r.coldAppDocument,
      shellDocument: r.coldShellDocument,
      firstVisit: true,
    }),
  ],
  ...[
    ['warm reload', 'warmReload'],
    ['reload, SW stopped', 'swStoppedReload'],
  ].map(([what, key]) => [
    what,
    (r) => ({
      ms: r[key]?.ms,
      ready: r[key]?.timeline?.ready,
      timeline: r[key]?.timeline,
      appDocument: r[key]?.appDocument,
      shellDocument: r[key]?.shellDocument,
      firstVisit: false,
    }),
  ]),
];

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** a ÷ b to two decimals. */
const ratio = (a, b) => Math.round((a / b) * 100) / 100;
const round = (v) => Math.round(v);

/**
 * Wingman's own floor for one load, from the same run: the P2P row's channel
 * ready mark (navigation start → the shell's channel usable: the shell's
 * document from the far server, signaling through it, ICE, DTLS and SCTP set-up)
 * plus the direct row's module wave (its app document's end → the ready marker),
 * i.e. the load as it would be if every module came over the channel as fast as
 * straight over the peer path, once the channel is up. Returns the parts too, so
 * a line can say where the P2P row's time above it went: before the channel was
 * ready, or in a module wave slower than direct's.
 * @returns {{ floor: number, ready: number, directWave: number, p2pWave: number } | undefined}
 */
export function wingmanFloor(p2pLoad, directLoad) {
  const ready = num(p2pLoad.ready);
  const total = num(p2pLoad.ms);
  const directTotal = num(directLoad.ms);
  const directDocEnd = num(directLoad.appDocument?.responseEnd);
  if (ready === undefined || total === undefined || directTotal === undefined || directDocEnd === undefined) return undefined;
  const directWave = directTotal - directDocEnd;
  return { floor: round(ready + directWave), ready: round(ready), directWave: round(directWave), p2pWave: round(total - ready) };
}

/**
 * What the set-up race (setup-race/index.mjs) says the agent's offer ahead takes off a channel's set-up, medians; undefined without both designs.
 * @param {any} race
 * @returns {{ ms: number, viewer: number, agent: number } | undefined}
 */
export function raceCut(race) {
  const viewer = num(race?.designs?.['viewer-offers']?.medians?.echo);
  const agent = num(race?.designs?.['agent-offers']?.medians?.echo);
  return viewer !== undefined && agent !== undefined ? { ms: viewer - agent, viewer, agent } : undefined;
}

/**
 * What the set-up race says resuming (its `resume` design: a reload's channel
 * with no signaling round trip) takes off a reload's channel set-up, medians:
 * the race's difference, plus the signaling socket's round trip before the
 * hello that it does not need (`socketMs`, the scenario's reviewer↔server
 * round trip); undefined without both designs.
 * @param {any} race
 * @param {number | undefined} socketMs
 * @returns {{ ms: number, viewer: number, resume: number, socketMs: number } | undefined}
 */
export function resumeCut(race, socketMs) {
  const viewer = num(race?.designs?.['viewer-offers']?.medians?.echo);
  const resume = num(race?.designs?.resume?.medians?.echo);
  const socket = num(socketMs);
  return viewer !== undefined && resume !== undefined && socket !== undefined ? { ms: viewer - resume + socket, viewer, resume, socketMs: socket } : undefined;
}

/**
 * The WAN goals, each judged on ratios within this run (never asserted in
 * tests: this machine is shared and noisy). Returns one entry per goal and
 * scenario; `pass` is null when a figure is missing.
 * @param {Array<Record<string, any>>} rows
 * @returns {Array<{ goal: string, scenario: string, pass: boolean | null, text: string }>}
 */
export function judgeWanGoals(rows) {
  const out = [];
  const add = (goal, scenario, pass, text) => out.push({ goal, scenario, pass, text });
  for (const name of [...new Set(rows.map((r) => r.scenario))]) {
    const mode = (m) => rows.find((r) => r.scenario === name && r.mode === m);
    const p2p = mode('p2p');
    const relay = mode('relay-only');
    // The floor under any P2P transport: the app straight over the peer path.
    const direct = mode('direct');
    if (name === 'far-server' && p2p && direct) {
      for (const [what, load] of LOADS) {
        const a = num(load(p2p).ms);
        const d = num(load(direct).ms);
        const ok = a !== undefined && d !== undefined ? a <= FLOOR_RATIO_GOAL * d : null;
        const w = wingmanFloor(load(p2p), load(direct));
        const own = w
          ? `; Wingman's floor ${w.floor} ms (channel ready at ${w.ready} ms + direct's module wave ${w.directWave} ms): ${ratio(a ?? NaN, w.floor)}×, its module wave took ${w.p2pWave} ms after the channel was ready`
          : '';
        const wan = WAN_SCENARIOS.find((s) => s.name === name)?.wan;
        const f = setupFloor(wan, load(p2p), load(p2p).firstVisit);
        const cut = raceCut(relay?.setupRace);
        // Resuming needs the channel of the page before: reloads only.
        const resume = load(p2p).firstVisit ? undefined : resumeCut(relay?.setupRace, wan?.reviewerServer.rttMs);
        const race = [
          cut && a !== undefined && d !== undefined
            ? `; set-up race (bare channels, same run): the agent's offer ahead would take ${cut.ms} ms off the set-up (${cut.viewer} → ${cut.agent} ms from the hello), ${ratio(a - cut.ms, d)}× with it`
            : '',
          resume && a !== undefined && d !== undefined
            ? `; resuming would take ${resume.ms} ms off (${resume.viewer} → ${resume.resume} ms from the hello, and the signaling socket's ${resume.socketMs} ms before it), ${ratio(a - resume.ms, d)}× with it`
            : '',
        ].join('');
        add(
          'floor',
          name,
          ok,
          `${what} via P2P ${a ?? '—'} ms vs direct ${d ?? '—'} ms: ${a !== undefined && d !== undefined ? ratio(a, d) : '—'}× (goal ≤ ${FLOOR_RATIO_GOAL}×)${own}${f ? `; ${formatSetupFloor(f)}` : ''}${race}`,
        );
      }
      const a = num(p2p.smallP50Ms);
      const d = num(direct.smallP50Ms);
      const ok = a !== undefined && d !== undefined ? a <= d + SMALL_FETCH_OVER_FLOOR_MS : null;
      add('floor', name, ok, `API p50 via P2P ${a ?? '—'} ms vs direct ${d ?? '—'} ms (goal ≤ direct + ${SMALL_FETCH_OVER_FLOOR_MS} ms)`);
    }
    if (name === 'far-server' && p2p && relay) {
      for (const [what, get] of [COLUMNS[7], COLUMNS[8]]) {
        const a = num(get(p2p));
        const b = num(get(relay));
        const ok = a !== undefined && b !== undefined ? a >= b : null;
        add(
          'bulk',
          name,
          ok,
          `${what} via P2P ${a ?? '—'} MB/s vs relay-only ${b ?? '—'} MB/s (goal ≥ relay-only), via ${p2p[what === '20 MiB down' ? 'downloadTransport' : 'uploadTransport'] ?? '—'}` +
            (relay.bulkFloor ? `; ${formatFloor(relay.bulkFloor, what === '20 MiB down' ? 'down' : 'up')}` : ''),
        );
      }
    }
    if (name === 'lossy-mobile' && p2p && relay) {
      const worse = [];
      let missing = 0;
      for (const [what, get] of [COLUMNS[0], COLUMNS[1], COLUMNS[2], COLUMNS[6]]) {
        const a = num(get(p2p));
        const b = num(get(relay));
        if (a === undefined || b === undefined) missing++;
        else if (a > LOSSY_RATIO_GOAL * b) worse.push(`${what} ${a} vs ${b} (${ratio(a, b)}×)`);
      }
      add(
        'lossy',
        name,
        missing ? null : worse.length === 0,
        `P2P vs relay-only on the three loads and API p99, each ≤ ${LOSSY_RATIO_GOAL}×${worse.length ? `: worse in ${worse.join('; ')}` : ''}${missing ? `; ${missing} figure(s) missing` : ''}` +
          // What the data channel itself moves under this loss, against the relay's TCP (bulk-floor/).
          (relay.bulkFloor ? `; ${formatFloor(relay.bulkFloor, 'down')}, relay-only 20 MiB down ${num(relay.downloadMBps) ?? '—'} MB/s` : '') +
          formatSwFloor(p2p, relay),
      );
    }
    if (relay) {
      for (const m of ['p2p', 'p2p-blocked']) {
        const r = mode(m);
        if (!r) continue;
        const worse = [];
        let missing = 0;
        let compared = 0;
        for (const [what, get, better] of COLUMNS) {
          const a = get(r);
          const b = get(relay);
          if (typeof a !== 'number' || typeof b !== 'number') {
            if (typeof b === 'number') missing++;
            continue;
          }
          compared++;
          const bad = better === 'lower' ? a > NEVER_WORSE_SLACK * b : a * NEVER_WORSE_SLACK < b;
          if (bad) worse.push(`${what} ${a} vs ${b} (${ratio(a, b)}×)`);
        }
        const ok = compared === 0 ? null : worse.length === 0 && missing === 0;
        add(
          'never worse',
          name,
          ok,
          `${m} vs relay-only, every column within ${NEVER_WORSE_SLACK}×${worse.length ? `: worse in ${worse.join('; ')}` : ''}${missing ? `; ${missing} column(s) missing` : ''}` +
            // The floors under a worse reload (lossy-mobile's are on its lossy line).
            (worse.length && name !== 'lossy-mobile' ? formatSwFloor(r, relay) : ''),
        );
      }
    }
    if (p2p) {
      const share = num(p2p.serverWirePerAppByteAfterFirstLoad);
      const goal = SERVER_SHARE_GOALS[name] ?? SERVER_SHARE_GOAL;
      const ok = share !== undefined ? share <= goal : null;
      add('server cost', name, ok, `P2P (${p2p.transport}) server-host bytes after the first load per app byte ${share ?? '—'} (goal ≤ ${goal})`);
    }
  }
  return out;
}

/**
 * The reloads' floors (floor-sw.mjs), from the relay-only row: the same
 * reloads under the smallest worker, and under the smallest worker with a
 * shell, each against relay-only's own and P2P's against it; '' without them.
 */
export function formatSwFloor(p2p, relay) {
  const floors = [];
  for (const [name, key] of [
    ['Service Worker floor (relay-only under the smallest worker, same run)', 'worker'],
    ['shell floor (… and the smallest shell, the app in its frame)', 'shell'],
  ]) {
    const parts = [];
    for (const [what, load] of [
      ['warm reload', 'warmReload'],
      ['reload, SW stopped', 'swStoppedReload'],
    ]) {
      const f = num(relay.swFloor?.[key]?.[load]?.ms);
      const r = num(relay[load]?.ms);
      const a = num(p2p[load]?.ms);
      if (f === undefined || r === undefined) continue;
      parts.push(`${what} ${f} ms (${ratio(f, r)}× relay-only${a !== undefined ? `; P2P ${ratio(a, f)}× it` : ''})`);
    }
    if (parts.length) floors.push(`; ${name}: ${parts.join(', ')}`);
  }
  return floors.join('');
}

/** PASS/FAIL lines, as the bench prints them. */
export function formatWanGoals(goals) {
  return goals.map((g) => `${g.pass === null ? 'N/A ' : g.pass ? 'PASS' : 'FAIL'} ${g.goal}: ${g.scenario}: ${g.text}`).join('\n');
}
