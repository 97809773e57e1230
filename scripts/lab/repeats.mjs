/**
 * `--repeat N`: each WAN scenario and mode run N times, the runs
 * interleaved (every mode once, then every mode again), so a slow spell of
 * the machine falls on every mode alike. The table and the goals then read
 * one row per scenario and mode whose figures are the medians of its runs:
 * single runs of the same code move cells by 10–20 % (docs/lab.md), as much
 * as the "never worse" slack itself.
 */
import { FLOOR_FIGURES } from './bulk-floor/figures.mjs';
import { TRANSPORT_FIGURES } from './transport-report.mjs';

/** The shell's milestones the goal lines read (report.mjs, setup-floor.mjs), ms after each load's navigation start. */
const TIMELINE_MARKS = ['inline', 'script', 'attempt', 'sw-controls', 'hello', 'offer', 'answer-in', 'answer', 'channel-open', 'ready', 'frame-load'];

/**
 * Where each load keeps its timeline and documents: their marks are medians
 * too, so the goal lines' set-up steps and Wingman's floor come from the same
 * runs as the load times next to them, not from the first run alone.
 */
const LOAD_FIGURES = [
  ['timeline', 'coldShellDocument', 'coldAppDocument'],
  ['warmReload.timeline', 'warmReload.shellDocument', 'warmReload.appDocument'],
  ['swStoppedReload.timeline', 'swStoppedReload.shellDocument', 'swStoppedReload.appDocument'],
].flatMap(([timeline, shellDocument, appDocument]) => [
  ...TIMELINE_MARKS.map((m) => /** @type {[string, number]} */ ([`${timeline}.${m}`, 1])),
  /** @type {[string, number]} */ ([`${shellDocument}.responseEnd`, 1]),
  /** @type {[string, number]} */ ([`${appDocument}.responseEnd`, 1]),
]);

/** Figures of a WAN row that the table and the goals read: [path in the row, digits kept]. */
const FIGURES = [
  ['coldMs', 0],
  ['warmReload.ms', 0],
  ['swStoppedReload.ms', 0],
  // relay-only rows of far-server and lossy-mobile: the same reloads under the reload floors (floor-sw.mjs).
  ['swFloor.worker.warmReload.ms', 0],
  ['swFloor.worker.swStoppedReload.ms', 0],
  ['swFloor.shell.warmReload.ms', 0],
  ['swFloor.shell.swStoppedReload.ms', 0],
  ['hmrFirstPage.ms', 0],
  ['hmr.ms', 0],
  ['smallP50Ms', 1],
  ['smallP99Ms', 1],
  ['downloadMBps', 1],
  ['uploadMBps', 1],
  ['serverWirePerAppByte', 3],
  ['serverWirePerAppByteAfterFirstLoad', 4],
  // When each load's P2P channel was ready, ms after its navigation started (JSON only).
  ['p2pReadyMs', 0],
  ['warmReload.p2pReadyMs', 0],
  ['swStoppedReload.p2pReadyMs', 0],
  // Stalls, drops and retransmissions per phase (the transport line; the rest of `phases` is the first run's).
  ...TRANSPORT_FIGURES,
  // The bulk floor (relay-only rows of far-server): rates, drops and the machine's load per transfer.
  ...FLOOR_FIGURES, // Each load's shell milestones and documents (JSON: every run's in samples).
  ...LOAD_FIGURES,
];

const get = (row, path) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), row);

function set(row, path, value) {
  const keys = path.split('.');
  let at = row;
  for (const k of keys.slice(0, -1)) {
    at[k] = at[k] == null ? {} : { ...at[k] };
    at = at[k];
  }
  at[keys[keys.length - 1]] = value;
}

/** The median of numbers (the mean of the middle two for an even count); null for none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * One row per scenario and mode from repeated runs: the first run's row with
 * each figure replaced by the median of the runs, `ok` only when every run
 * passed, the failed checks of all runs, and every run's figures in `samples`.
 * @param {Array<Record<string, any>>} rows WAN rows (scenario + mode), any number of runs each
 * @returns {Array<Record<string, any>>}
 */
export function medianRows(rows) {
  const groups = new Map();
  for (const r of rows) {
    const key = `${r.scenario}\u0000${r.mode}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  return [...groups.values()].map((runs) => {
    const row = { ...runs[0], repeats: runs.length, samples: {} };
    for (const [path, digits] of FIGURES) {
      const values = runs.map((r) => get(r, path));
      // A figure no run has (e.g. a phase's counters in a mode without that phase) gets no samples.
      if (values.every((v) => v === undefined)) continue;
      row.samples[path] = values.map((v) => (typeof v === 'number' ? v : null));
      const m = median(values);
      if (m === null && get(row, path) === undefined) continue;
      const scale = 10 ** digits;
      set(row, path, m === null ? null : Math.round(m * scale) / scale);
    }
    // The agent's P2P host crashes: every run's, summed (a median would hide one in a few runs).
    const crashes = runs.map((r) => (typeof r.p2pHostCrashes === 'number' ? r.p2pHostCrashes : null));
    if (crashes.some((c) => c !== null)) {
      row.samples.p2pHostCrashes = crashes;
      row.p2pHostCrashes = crashes.reduce((s, c) => s + (c ?? 0), 0);
    }
    row.ok = runs.every((r) => r.ok);
    row.failed = [...new Set(runs.flatMap((r) => r.failed ?? []))];
    row.loadAvg1m = runs.map((r) => r.loadAvg1m);
    return row;
  });
}
