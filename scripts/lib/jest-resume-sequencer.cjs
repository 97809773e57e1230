/**
 * jest's own test order, less the files listed (one absolute path a line) in
 * the file named by WINGMAN_JEST_SKIP: a phase rerun after a native crash
 * resumes with the files that had not finished (scripts/lib/jest-phase.mjs).
 * Without the variable it is jest's default sequencer.
 */
'use strict';
const { readFileSync } = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

class ResumeSequencer extends Sequencer {
  sort(tests) {
    const skipFile = process.env.WINGMAN_JEST_SKIP;
    const sorted = super.sort(tests);
    if (!skipFile) return sorted;
    const skip = new Set(readFileSync(skipFile, 'utf8').split('\n').filter(Boolean));
    return sorted.filter((test) => !skip.has(test.path));
  }
}

module.exports = ResumeSequencer;
