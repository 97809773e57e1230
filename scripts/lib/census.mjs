/**
 * What the census (scripts/census.mjs) parses: its options, and the failures of
 * one run from the results the runner kept (WINGMAN_TEST_RESULTS_DIR).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failedTests } from './jest-failures.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PROJECTS = new Set(['unit', 'integration', 'e2e', 'lab']);

/**
 * @param {string[]} argv
 * @returns {{ runs: number, projects: string[], jestArgs: string[] }}
 */
export function parseCensusArgs(argv) {
  let runs = 5;
  let projects = ['integration', 'e2e'];
  const jestArgs = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs takes a whole number from 1 to 100, got "${argv[i]}"`);
    } else if (arg === '--only') {
      projects = String(argv[++i] ?? '')
        .split(',')
        .filter(Boolean);
      const unknown = projects.filter((p) => !PROJECTS.has(p));
      if (projects.length === 0 || unknown.length > 0)
        throw new Error(`--only takes a comma-separated list of ${[...PROJECTS].join(', ')}; got "${argv[i] ?? ''}"`);
    } else {
      jestArgs.push(arg);
    }
  }
  return { runs, projects, jestArgs };
}

/**
 * The failures of one run, from jest's --json results and the runner's phase records.
 * @param {string} dir the run's WINGMAN_TEST_RESULTS_DIR
 * @returns {Array<{ test: string, error: string }>}
 */
export function failuresOfRun(dir) {
  const failures = [];
  const phasesFile = join(dir, 'phases.json');
  const phases = existsSync(phasesFile) ? JSON.parse(readFileSync(phasesFile, 'utf8')) : [];
  for (const phase of phases) {
    const resultsFile = join(dir, `${phase.name}.json`);
    if (!existsSync(resultsFile)) continue;
    failures.push(...failedTests(JSON.parse(readFileSync(resultsFile, 'utf8')), ROOT));
  }
  for (const phase of phases) {
    if (phase.code !== 0 && phase.problem) failures.push({ test: `(the run: ${phase.name})`, error: phase.problem });
  }
  if (phases.length === 0) failures.push({ test: '(the run)', error: 'the runner wrote no phase record: see its output above' });
  return failures;
}
