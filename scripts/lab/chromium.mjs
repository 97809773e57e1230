/**
 * How the lab starts the reviewer's Chromium (reviewer.mjs, bulk-floor/browser.mjs, setup-race/browser.mjs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from '../lib/prereqs.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Flags for a headless reviewer in a closed lab: no Google services, no QUIC, no sandbox (root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
];
/** Chromium starts in ~1-2 s here; 30 s covers a cold cache on a loaded 2-core machine. */
export const LAUNCH_TIMEOUT_MS = 30_000;

/**
 * With WINGMAN_LAB_NETLOG=<path prefix>: Chromium's network log of each
 * browser the lab starts, `<prefix>.<pid>.<ms>.json` (every HTTP/2 frame,
 * GOAWAY and stream error; open it in Chromium's netlog viewer or read its
 * `events`). Empty without it.
 * @returns {string[]}
 */
function netLogArgs() {
  const prefix = process.env.WINGMAN_LAB_NETLOG;
  return prefix ? [`--log-net-log=${prefix}.${process.pid}.${Date.now()}.json`] : [];
}

/**
 * Starts the lab's Chromium with its profile in `profile`: headless, CHROMIUM_ARGS
 * and then `args`, any other playwright launch option as given.
 * @param {string} profile
 * @param {Record<string, unknown> & { args?: string[] }} [options]
 */
export function launchLabChromium(profile, { args = [], ...options } = {}) {
  const { chromium } = createRequire(join(ROOT, 'package.json'))('playwright-core');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    ...options,
    args: [...CHROMIUM_ARGS, ...args, ...netLogArgs()],
  });
}

/**
 * The scaffold of a lab side-measurement's browser process (bulk-floor/,
 * setup-race/): Chromium with CHROMIUM_ARGS in a fresh profile, `measure`
 * run on its blank page, then the profile removed and one last JSON line,
 * {"event":"result"} with `error` if it failed; the process exits 0, or 1
 * with the stack if even that could not be written.
 * @param {string} name the process's name in its error line
 * @param {(page: import('playwright-core').Page) => Promise<void>} measure
 */
export function runOnBlankPage(name, measure) {
  const main = async () => {
    const profile = mkdtempSync(join(tmpdir(), 'wmlab-blank-'));
    const out = { event: 'result', error: null };
    let context;
    try {
      context = await launchLabChromium(profile);
      await measure(context.pages()[0] ?? (await context.newPage()));
    } catch (err) {
      out.error = err instanceof Error ? err.message : String(err);
    } finally {
      await context?.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  };
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
