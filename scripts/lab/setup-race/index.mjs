/**
 * The set-up race of a WAN scenario (`setupRace` in scenarios.mjs): how long
 * a data channel between the reviewer's Chromium and the agent's
 * @roamhq/wrtc takes to become usable, from the moment the shell could
 * start (the signaling hello), under three designs over the scenario's real
 * peer path and STUN server, with signaling delayed by the scenario's
 * one-way reviewer → server → dev time:
 *  - `viewer-offers`: Wingman today — the page offers, the agent answers,
 *    candidates trickle both ways, the agent's gathered after the offer came;
 *  - `agent-offers`: the agent made its peer connection, channel and offer
 *    ahead, candidates gathered, and the page has it with the hello; the
 *    page answers and trickles;
 *  - `resume`: a reload that needs no signaling round trip: before the
 *    clock the page kept a certificate and made its next offer, and the
 *    agent answered it (as they could over the live channel before a
 *    reload); at the start the page makes its peer connection with that
 *    certificate, puts the kept ICE credentials in its new offer, applies the
 *    kept answer and only trickles its candidates, which the agent's NAT
 *    needs before the agent's checks get through.
 * No Wingman protocol, Service Worker or page plumbing: the differences are
 * what moving the offer to the agent or resuming would take off every page
 * load's channel set-up. Runs in the relay-only mode's namespaces once its reviewer
 * is done (the agent runs --no-p2p there: nothing else uses the peer path).
 *
 *   host.mjs          dev namespace: bare wrtc peer connections
 *   browser.mjs       reviewer namespace: Chromium, the trials
 *   in-page.mjs       what browser.mjs runs in the page
 *   signal-files.mjs  the delayed signaling both sides read
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startInNamespace } from '../proc.mjs';
import { median } from '../repeats.mjs';

const HERE = new URL('.', import.meta.url).pathname;
/** Trials per design. */
export const SETUP_RACE_TRIALS = 7;
/** Chromium's start and 3 designs × SETUP_RACE_TRIALS trials of at most ~20 s each (prepare + connect). */
const RACE_TIMEOUT_MS = 600_000;
const START_TIMEOUT_MS = 15_000;
/** The marks of a trial, in the order they come (`answer` only where the page offers). */
export const RACE_MARKS = ['answer', 'remote-srflx', 'ice', 'dtls', 'open', 'echo'];

/**
 * @typedef {{ trials: number, failed: number, medians: Record<string, number | null>, samples: Array<Record<string, number>> }} RaceDesign
 * @param {{ topology: import('../topology.mjs').Topology, stunUrls: string[], delayMs: number, dir: string, trials?: number }} options
 * @returns {Promise<{ delayMs: number, designs: Record<string, RaceDesign>, error: string | null }>}
 */
export async function measureSetupRace({ topology, stunUrls, delayMs, dir, trials = SETUP_RACE_TRIALS }) {
  const signaling = mkdtempSync(join(dir, 'race-'));
  const host = startInNamespace({
    name: 'setup-race-host',
    ns: topology.ns.dev,
    command: process.execPath,
    args: [join(HERE, 'host.mjs'), signaling, stunUrls.join(','), String(delayMs)],
  });
  let browser;
  try {
    await host.waitFor((e) => e.event === 'ready', START_TIMEOUT_MS, 'ready');
    browser = startInNamespace({
      name: 'setup-race-browser',
      ns: topology.ns.reviewer,
      command: process.execPath,
      args: [join(HERE, 'browser.mjs'), JSON.stringify({ dir: signaling, stunUrls, delayMs, trials })],
    });
    const result = await browser.waitFor((e) => e.event === 'result', RACE_TIMEOUT_MS, 'the set-up race');
    return { delayMs, designs: raceFigures(browser.events.filter((e) => e.event === 'trial')), error: typeof result.error === 'string' ? result.error : null };
  } catch (err) {
    return { delayMs, designs: {}, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await browser?.stop();
    await host.stop();
    rmSync(signaling, { recursive: true, force: true });
  }
}

/**
 * Per design: its trials, how many failed, each mark's median over the trials that have it.
 * @param {Array<{ design: string, marks?: Record<string, number>, error?: string }>} lines
 * @returns {Record<string, RaceDesign>}
 */
export function raceFigures(lines) {
  /** @type {Record<string, RaceDesign>} */
  const out = {};
  for (const line of lines) {
    const d = (out[line.design] ??= { trials: 0, failed: 0, medians: {}, samples: [] });
    d.trials++;
    if (!line.marks || line.error) d.failed++;
    else d.samples.push(line.marks);
  }
  for (const d of Object.values(out))
    d.medians = Object.fromEntries(
      RACE_MARKS.map((m) => {
        const v = median(d.samples.map((s) => s[m]));
        return [m, v === null ? null : Math.round(v)];
      }),
    );
  return out;
}

/**
 * One line: each design's median time to a usable channel, and the difference.
 * @param {{ delayMs: number, designs: Record<string, RaceDesign>, error: string | null }} race
 */
export function formatSetupRace(race) {
  const parts = Object.entries(race.designs).map(
    ([name, d]) =>
      `${name} ${d.medians.echo ?? '—'} ms (agent's public candidate in ${d.medians['remote-srflx'] ?? '—'}, ICE ${d.medians.ice ?? '—'}, DTLS ${d.medians.dtls ?? '—'}, open ${d.medians.open ?? '—'}; ${d.trials - d.failed}/${d.trials} trials)`,
  );
  const v = race.designs['viewer-offers']?.medians.echo;
  const a = race.designs['agent-offers']?.medians.echo;
  const r = race.designs.resume?.medians.echo;
  const diff = [
    typeof v === 'number' && typeof a === 'number' ? `; the agent's offer would take ${v - a} ms off` : '',
    typeof v === 'number' && typeof r === 'number' ? `; resuming would take ${v - r} ms off, and the signaling socket's round trip before the hello` : '',
  ].join('');
  return `set-up race (hello → channel usable, signaling one way ${race.delayMs} ms): ${parts.join(', ')}${diff}${race.error ? ` (${race.error})` : ''}`;
}
