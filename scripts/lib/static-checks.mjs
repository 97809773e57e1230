/**
 * The checks `npm test` runs beside its tests: `npm run typecheck:tests` (tsc
 * over the tests, helpers and benches, which the build does not compile),
 * `npm run lint` (ESLint, eslint.config.mjs) and `npm run format:check`
 * (Prettier, .prettierrc.json). All three start at once, beside the integration
 * and e2e lanes, once the unit files are done (they take ~170 s of CPU, ~100 s
 * of wall time on two idle cores); each one's output is printed when it ends, and a failed one says which command
 * fixes it. One run shows every problem.
 */
import { spawn } from 'node:child_process';

/**
 * Type-aware lint of the whole tree takes about a minute of CPU; a loaded
 * machine stretches that several times. Past this it is hung, not slow.
 */
const CHECK_TIMEOUT_MS = 15 * 60_000;

const CHECKS = [
  { script: 'typecheck:tests', fix: 'fix the type errors listed above (tests, helpers and benches: tsconfig.eslint.json), then `npm run typecheck:tests`' },
  { script: 'lint', fix: 'fix the errors listed above (`npx eslint . --fix` fixes some by itself), then `npm run lint`' },
  { script: 'format:check', fix: 'run `npm run format` (Prettier rewrites the files listed above)' },
];

/**
 * Starts every check; resolves once all have ended, with a line for each that failed (none: all passed).
 * @param {string} root repository root
 * @param {AbortSignal} signal stops them (the run's SIGTERM)
 * @returns {Promise<string[]>}
 */
export async function runStaticChecks(root, signal) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const results = await Promise.all(CHECKS.map((check) => runCheck(npm, root, check, signal)));
  return results.filter((line) => line !== null);
}

/**
 * @param {string} npm
 * @param {string} root
 * @param {{ script: string, fix: string }} check
 * @param {AbortSignal} signal
 * @returns {Promise<string | null>} what failed and how to fix it, or null
 */
function runCheck(npm, root, check, signal) {
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', check.script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], timeout: CHECK_TIMEOUT_MS, signal });
    /** @type {Buffer[]} */
    const output = [];
    child.stdout.on('data', (d) => output.push(d));
    child.stderr.on('data', (d) => output.push(d));
    let settled = false;
    // 'error' (a spawn failure, the abort) may come before 'close': the first says what happened.
    const settle = (/** @type {string | null} */ why) => {
      if (settled) return;
      settled = true;
      const text = Buffer.concat(output).toString('utf8').trimEnd();
      console.log(`\n[run-tests] npm run ${check.script}: ${why === null ? 'ok' : why}${why === null ? '' : `\n${text}`}`);
      resolve(why === null ? null : `  - npm run ${check.script} failed (${why}): ${check.fix}`);
    };
    child.on('error', (err) => settle(err.message));
    child.on('close', (code, signal) => settle(code === 0 ? null : signal ? `stopped by ${signal}` : `exit ${code}`));
  });
}
