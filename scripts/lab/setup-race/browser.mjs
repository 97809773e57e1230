#!/usr/bin/env node
/**
 * The reviewer's side of the set-up race (setup-race/index.mjs), run in the
 * reviewer namespace: the lab's headless Chromium on a blank page, and per
 * trial one peer connection to host.mjs in the dev namespace made by the
 * trial's design (in-page.mjs), its signaling through files with the
 * scenario's one-way delay (signal-files.mjs). The designs alternate, so a
 * slow spell of the machine falls on both. Prints one JSON line per trial,
 * {"event":"trial", design, marks | error}, then {"event":"result"}.
 * Argument: one JSON object { dir, stunUrls, delayMs, trials }.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOnBlankPage } from '../chromium.mjs';
import { raceDeliver, raceStart, resumePrepare } from './in-page.mjs';
import { messageReader, writeJsonFile, writeMessage } from './signal-files.mjs';

export const DESIGNS = ['viewer-offers', 'agent-offers', 'resume'];
/** The host's offer with its candidates gathered (its STUN server one far-server round trip away). */
const PREPARE_TIMEOUT_MS = 10_000;
/** ICE, DTLS and SCTP over a few round trips. */
const TRIAL_TIMEOUT_MS = 10_000;
const POLL_MS = 2;

const config = JSON.parse(process.argv[2] ?? '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function prepared(k) {
  const file = join(config.dir, `offer-${k}.json`);
  const deadline = Date.now() + PREPARE_TIMEOUT_MS;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the host did not prepare trial ${k} within ${PREPARE_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

runOnBlankPage('set-up race browser', async (page) => {
  let trial = 0;
  let seq = 0;
  await page.exposeFunction('raceOut', (msg) => writeMessage(config.dir, 'v', trial, seq++, msg));
  for (let k = 0; k < config.trials * DESIGNS.length; k++) {
    const design = DESIGNS[k % DESIGNS.length];
    const line = { event: 'trial', design };
    try {
      trial = k;
      seq = 0;
      // `resume`: the page's next offer, made before the clock as a page would before a reload.
      const ahead = design === 'resume' ? { sdp: await page.evaluate(resumePrepare, { stunUrls: config.stunUrls }) } : {};
      writeJsonFile(join(config.dir, `prepare-${k}.json`), { design, ...ahead });
      const { sdp } = await prepared(k);
      let done = false;
      const started = page.evaluate(raceStart, { design, sdp, stunUrls: config.stunUrls, timeoutMs: TRIAL_TIMEOUT_MS }).finally(() => {
        done = true;
      });
      const reader = messageReader(config.dir, 'a', k, config.delayMs);
      const deliver = (async () => {
        while (!done) {
          for (let msg = reader.next(); msg !== undefined && !done; msg = reader.next()) await page.evaluate(raceDeliver, msg);
          await sleep(POLL_MS);
        }
      })();
      line.marks = await started;
      await deliver;
    } catch (err) {
      line.error = err instanceof Error ? err.message : String(err);
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
});
