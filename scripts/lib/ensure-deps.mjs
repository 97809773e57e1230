#!/usr/bin/env node
/**
 * `prestart` / `pretest`: makes `npm start` and `npm test` work as the first
 * command on a fresh clone. Installs dependencies with `npm ci` when
 * node_modules is missing, and says so when package-lock.json changed since
 * the last install (a `git pull`), without reinstalling behind the user's back.
 * Uses only node:* modules: it runs before anything is installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** npm writes this after every install; its absence means "never installed". */
const INSTALL_MARKER = join(ROOT, 'node_modules', '.package-lock.json');
const LOCKFILE = join(ROOT, 'package-lock.json');
/** A cold `npm ci` takes ~30 s here; 15 minutes covers a slow registry without hanging forever. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

if (!existsSync(INSTALL_MARKER)) {
  console.log('[wingman] first run: installing dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: 'inherit', timeout: INSTALL_TIMEOUT_MS });
  if (result.status !== 0) {
    console.error(`[wingman] npm ci failed (${result.error?.message ?? `exit ${result.status}`}); fix the error above and run the command again`);
    process.exit(1);
  }
} else if (existsSync(LOCKFILE) && statSync(LOCKFILE).mtimeMs > statSync(INSTALL_MARKER).mtimeMs + 1_000) {
  console.warn('[wingman] package-lock.json changed since the last install: run npm ci if the build or tests complain');
}
