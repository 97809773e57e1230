/**
 * The checks `npm test` runs before any test: `npm run typecheck:tests` (tsc
 * over the tests, helpers and benches, which the build does not compile),
 * `npm run lint` (ESLint, eslint.config.mjs) and `npm run format:check`
 * (Prettier, .prettierrc.json). All always run, so one pass shows every problem; on a failure each says
 * which command fixes it.
 */
import { spawnSync } from 'node:child_process';

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
 * Runs every check; prints what fixes each failed one.
 * @param {string} root repository root
 * @returns {boolean} true when all passed
 */
export function runStaticChecks(root) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const failed = [];
  for (const check of CHECKS) {
    const result = spawnSync(npm, ['run', check.script], { cwd: root, stdio: 'inherit', timeout: CHECK_TIMEOUT_MS });
    if (result.status !== 0) {
      const why = result.error ? result.error.message : result.signal ? `stopped by ${result.signal}` : `exit ${result.status}`;
      failed.push(`  - npm run ${check.script} failed (${why}): ${check.fix}`);
    }
  }
  if (failed.length > 0) {
    console.error(`\n[run-tests] code checks failed; no test was run:\n${failed.join('\n')}`);
    return false;
  }
  return true;
}
