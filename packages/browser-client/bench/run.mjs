#!/usr/bin/env node
// Runs the browser rows (bench/browser-bench.ts) inside a loopback-only
// network namespace, as the rest of `npm run bench` does. The TypeScript
// (and the e2e helpers it reuses) is loaded through bench/ts-register.cjs.
//   node packages/browser-client/bench/run.mjs [--out results.json]
//   node packages/browser-client/bench/run.mjs --bench message-size   (bench/message-size-bench.ts)
//   node packages/browser-client/bench/run.mjs --bench upload-path    (bench/upload-path-bench.ts)
//   node packages/browser-client/bench/run.mjs --bench live-reload    (bench/live-reload-bench.ts; scripts/bench/live-reload.mjs)
// Needs `npm run build` (the tunnel server, agent and browser bundles).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { insideLoopbackNamespace, reexecInNamespace } from '../../../scripts/bench/lib/netns.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!insideLoopbackNamespace()) {
  process.exit(await reexecInNamespace(fileURLToPath(import.meta.url), process.argv.slice(2)));
}
const args = process.argv.slice(2);
const which = args.indexOf('--bench');
const script = which >= 0 ? `${args.splice(which, 2)[1]}-bench.ts` : 'browser-bench.ts';
const r = spawnSync(process.execPath, ['-r', join(here, 'ts-register.cjs'), join(here, script), ...args], {
  stdio: 'inherit',
  cwd: join(here, '..', '..', '..'),
});
process.exitCode = r.status ?? 1;
