#!/usr/bin/env node
/**
 * The speed ledger's figures from one `--ab` lab run (docs/speed-ledger.md):
 * reads the run's `--json` output and prints, per scenario and figure, the
 * `p2p` mode (as shipped) and the `p2p-ab` mode (the variables of `--ab`),
 * each as its median over the repeats with the spread (min–max), and as a
 * ratio to relay-only: per repeat, the mode's figure over the relay-only
 * figure of the same repeat, median [min–max].
 *
 *   node scripts/lab/ab-report.mjs run.json
 */
import { readFileSync } from 'node:fs';

/** The ledger's figures: [JSON sample key, label, true when higher is better]. */
export const FIGURES = [
  ['coldMs', 'cold visit ms', false],
  ['warmReload.ms', 'warm reload ms', false],
  ['swStoppedReload.ms', 'reload, SW stopped ms', false],
  ['smallP50Ms', 'API p50 ms', false],
  ['smallP99Ms', 'API p99 ms', false],
  ['downloadMBps', '20 MiB down MB/s', true],
  ['uploadMBps', '20 MiB up MB/s', true],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (Math.abs(x) >= 100 ? String(Math.round(x)) : x.toFixed(Math.abs(x) >= 10 ? 1 : 2));
const spread = (xs) => `${fmt(median(xs))} [${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}]`;

/**
 * @param {Array<Record<string, any>>} rows the lab's `--json` array
 * @returns {string[]} one line per scenario and figure
 */
export function abLines(rows) {
  const lines = ['| scenario | figure | p2p | p2p-ab | p2p ÷ relay-only | p2p-ab ÷ relay-only |', '|---|---|---|---|---|---|'];
  for (const scenario of [...new Set(rows.filter((r) => r.mode).map((r) => r.scenario))]) {
    const row = (mode) => rows.find((r) => r.scenario === scenario && r.mode === mode);
    const on = row('p2p');
    const off = row('p2p-ab');
    const relay = row('relay-only');
    if (!on || !off || !relay) continue;
    for (const [key, label] of FIGURES) {
      const a = on.samples?.[key];
      const b = off.samples?.[key];
      const r = relay.samples?.[key];
      if (!a?.length || !b?.length || !r?.length) continue;
      const ratio = (xs) => xs.slice(0, r.length).map((x, i) => x / r[i]);
      lines.push(`| ${scenario} | ${label} | ${spread(a)} | ${spread(b)} | ${spread(ratio(a))} | ${spread(ratio(b))} |`);
    }
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node scripts/lab/ab-report.mjs <the --json output of an --ab run>\n');
    process.exit(2);
  }
  process.stdout.write(`${abLines(JSON.parse(readFileSync(file, 'utf8'))).join('\n')}\n`);
}
