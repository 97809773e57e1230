/**
 * `--ab "NAME=VALUE …"`: an on/off A/B inside one lab run. The WAN mode
 * `p2p-ab` is the `p2p` mode with these environment variables given to the
 * tunnel server and the agent (e.g. `P2P_LOSS_PROBE=false`), so it runs interleaved
 * with `p2p` and `relay-only` under `--repeat`, and its ratios to relay-only
 * come from the same run (docs/lab.md §Speed ledger).
 */

/** The mode's name in `--modes`, the table and the JSON. */
export const AB_MODE = 'p2p-ab';

/**
 * The assignments of `--ab`, checked: upper-case names, values without spaces.
 * @param {string} text e.g. "P2P_LOSS_PROBE=false P2P_VIDEO_SECTION=false"
 * @returns {Record<string, string>}
 */
export function parseAbEnv(text) {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new Error('--ab needs at least one NAME=VALUE');
  const env = {};
  for (const word of words) {
    const m = /^([A-Z][A-Z0-9_]*)=(\S*)$/.exec(word);
    if (!m) throw new Error(`--ab: "${word}" is not NAME=VALUE (an upper-case environment variable)`);
    env[m[1]] = m[2];
  }
  return env;
}

/**
 * The `p2p-ab` WAN mode for these variables.
 * @param {Record<string, string>} env
 */
export function abMode(env) {
  const text = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return { mode: AB_MODE, title: `Wingman P2P with ${text}`, apply: (s) => ({ ...s, mode: AB_MODE, env }) };
}

/**
 * `--rows-only`: the scenario without the relay-only mode's extra experiments
 * (bulk floor, set-up race, Service Worker floors), which take minutes and do
 * not change the rows an A/B compares.
 * @template {{ bulkFloor?: boolean, setupRace?: boolean, swFloor?: boolean }} S
 * @param {S} scenario
 * @returns {S}
 */
export function rowsOnly(scenario) {
  return { ...scenario, bulkFloor: false, setupRace: false, swFloor: false };
}
