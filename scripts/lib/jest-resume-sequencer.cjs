/**
 * jest's own test order, narrowed by two variables the runner sets
 * (scripts/run-tests.mjs):
 * - WINGMAN_JEST_LANE: `shared` leaves out the test files marked `@solo` in
 *   their first comment, `solo` keeps only those. A solo file measures a
 *   process's resources (peak RSS), which another test file running beside it
 *   would change: it runs after the integration and e2e lanes, alone.
 * - WINGMAN_JEST_SKIP: a file listing test files (one absolute path a line)
 *   not to run: a phase rerun after a native crash resumes with the files that
 *   had not finished (scripts/lib/jest-phase.mjs).
 * Without either, it is jest's default sequencer.
 */
'use strict';
const { readFileSync } = require('node:fs');
const { extract, parse } = require('jest-docblock');
const Sequencer = require('@jest/test-sequencer').default;

const LANES = new Set(['shared', 'solo']);
/** jest.config.js's projects, in its order. */
const PROJECT_ORDER = ['unit', 'integration', 'e2e', 'lab'];
const rank = (test) => PROJECT_ORDER.indexOf(test.context.config.displayName?.name ?? '');

/** True when the file's first comment carries `@solo` (with its reason after it). */
function isSolo(path) {
  return Object.hasOwn(parse(extract(readFileSync(path, 'utf8'))), 'solo');
}

class ResumeSequencer extends Sequencer {
  sort(tests) {
    let sorted = super.sort(tests);
    const lane = process.env.WINGMAN_JEST_LANE;
    if (lane !== undefined) {
      if (!LANES.has(lane)) throw new Error(`WINGMAN_JEST_LANE must be shared or solo, got "${lane}"`);
      sorted = sorted.filter((test) => isSolo(test.path) === (lane === 'solo'));
      if (lane === 'shared') sorted = sorted.toSorted((a, b) => rank(a) - rank(b));
    }
    const skipFile = process.env.WINGMAN_JEST_SKIP;
    if (!skipFile) return sorted;
    const skip = new Set(readFileSync(skipFile, 'utf8').split('\n').filter(Boolean));
    return sorted.filter((test) => !skip.has(test.path));
  }
}

module.exports = ResumeSequencer;
