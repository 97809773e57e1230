#!/usr/bin/env node
/**
 * Live reload's speed, straight on the dev server and through Wingman over
 * P2P in the same run (packages/browser-client/bench/live-reload-bench.ts):
 * `mkdocs serve` and `hugo server` (Debian packages), headless Chromium.
 *
 *   node scripts/bench/live-reload.mjs [--runs 10] [--servers mkdocs,hugo]
 *
 * Prints, per dev server and path, the median and spread of the time from
 * the server's line saying it told its pages to reload to the new page
 * shown, and Wingman's median ÷ direct's. Needs `npm run build`. Runs in a
 * loopback-only network namespace (packages/browser-client/bench/run.mjs).
 * Not part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const run = fileURLToPath(new URL('../../packages/browser-client/bench/run.mjs', import.meta.url));
const r = spawnSync(process.execPath, [run, '--bench', 'live-reload', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
