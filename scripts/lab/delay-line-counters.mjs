/**
 * The delay lines' packet counters (delay-line/delay-line.c): SIGUSR1 makes
 * a delay line write its counters to its stats file (replaced whole, with a
 * `dump` count that goes up by one per signal); this signals each one, waits
 * for the new dump and parses it.
 */
import { existsSync, readFileSync } from 'node:fs';

/** A dump takes microseconds; 2 s bounds a delay line that is gone or stuck. */
const DUMP_TIMEOUT_MS = 2_000;
const POLL_MS = 5;
const COUNTERS = ['read', 'written', 'lost', 'queueFull', 'unmatched'];
const RULE_COUNTERS = ['matched', 'written', 'lost', 'queueFull'];

/**
 * @typedef {{ role: 'server' | 'reviewer' | 'dev', pid: number, statsFile: string }} DelayLineRef
 *   role: whose egress it delays (server: the public namespace)
 * @typedef {object} DelayLineStats
 * @property {number} dump which dump this is (0: the line written at exit without any signal)
 * @property {number} read @property {number} written @property {number} lost
 * @property {number} queueFull @property {number} unmatched
 * @property {Array<{ dst: string, matched: number, written: number, lost: number, queueFull: number }>} rules
 */

const isCount = (v) => Number.isInteger(v) && v >= 0;

/**
 * Parses one stats line of the delay line; throws on anything else.
 * @param {string} text
 * @returns {DelayLineStats}
 */
export function parseDelayLineStats(text) {
  const s = JSON.parse(text);
  if (s?.event !== 'stats' || !isCount(s.dump)) throw new Error('not a delay-line stats line');
  for (const k of COUNTERS) if (!isCount(s[k])) throw new Error(`delay-line stats: ${k} is not a count`);
  if (!Array.isArray(s.rules)) throw new Error('delay-line stats: no rules');
  const rules = s.rules.map((r) => {
    if (typeof r?.dst !== 'string' || !RULE_COUNTERS.every((k) => isCount(r[k]))) throw new Error('delay-line stats: a rule without its counters');
    return { dst: r.dst, ...Object.fromEntries(RULE_COUNTERS.map((k) => [k, r[k]])) };
  });
  return { dump: s.dump, ...Object.fromEntries(COUNTERS.map((k) => [k, s[k]])), rules };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function dumpIn(file) {
  if (!existsSync(file)) return null;
  return parseDelayLineStats(readFileSync(file, 'utf8'));
}

/**
 * Asks one delay line for its counters now.
 * @param {DelayLineRef} ref
 * @returns {Promise<DelayLineStats>}
 */
export async function readDelayLine(ref) {
  const previous = dumpIn(ref.statsFile)?.dump ?? 0;
  process.kill(ref.pid, 'SIGUSR1');
  const deadline = Date.now() + DUMP_TIMEOUT_MS;
  for (;;) {
    const s = dumpIn(ref.statsFile);
    if (s && s.dump > previous) return s;
    if (Date.now() > deadline) throw new Error(`the ${ref.role} delay line (pid ${ref.pid}) wrote no counters within ${DUMP_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/**
 * Every delay line's counters, by role; a line that does not answer is null.
 * @param {DelayLineRef[]} refs
 * @returns {Promise<Record<string, DelayLineStats | null>>}
 */
export async function readDelayLines(refs) {
  const out = {};
  for (const ref of refs) out[ref.role] = await readDelayLine(ref).catch(() => null);
  return out;
}
