#!/usr/bin/env node
// `npm run bench`: the HTTP and Node P2P rows (scripts/bench/index.mjs), then
// the browser rows (packages/browser-client/bench/run.mjs: Chromium ↔ agent
// through the Service Worker, against a raw Chromium ↔ wrtc channel measured in
// the same run). Arguments go to both; `--out F` writes F and F's browser twin
// (F with `.browser` before its extension). `--no-browser` skips the browser rows.
// Exit code: non-zero when either part failed to run (goals are PASS/FAIL lines).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const noBrowser = args.includes('--no-browser');
const rest = args.filter((a) => a !== '--no-browser');
const run = (script, argv) => spawnSync(process.execPath, [join(root, script), ...argv], { stdio: 'inherit', cwd: root }).status ?? 1;

const http = run('scripts/bench/index.mjs', rest);
let browser = 0;
if (!noBrowser) {
  // The browser bench takes only --out; --rows selects HTTP rows.
  const i = rest.indexOf('--out');
  const browserArgs = i >= 0 && rest[i + 1] ? ['--out', rest[i + 1].replace(/(\.\w+)?$/, '.browser$1')] : [];
  console.log('\n# Browser rows\n');
  browser = run('packages/browser-client/bench/run.mjs', browserArgs);
}
process.exitCode = http || browser;
