/**
 * jest's own runner, but in band with WINGMAN_JEST_CLAIMS set (a folder the two lanes of
 * scripts/run-tests.mjs share) it runs a test file only after claiming it there: the file
 * is created with O_EXCL, so of two lanes that list the same file exactly one runs it.
 * The lane that runs out of its own files first takes the other lane's next ones, as a
 * work queue would, and the lanes end together. A file the other lane claimed is left out
 * of this lane's results: jest reports it in neither its counts nor its JSON.
 * Without the variable (or with workers) it is jest's default runner.
 */
'use strict';
const { createHash } = require('node:crypto');
const { closeSync, openSync } = require('node:fs');
const { join } = require('node:path');
const TestRunner = require('jest-runner').default;

/** True when this lane made the claim on `path` first. */
function claim(dir, path) {
  const name = createHash('sha256').update(path).digest('hex').slice(0, 32);
  try {
    closeSync(openSync(join(dir, name), 'wx'));
    return true;
  } catch (err) {
    if (err.code === 'EEXIST') return false;
    throw err;
  }
}

class ClaimRunner extends TestRunner {
  async runTests(tests, watcher, options) {
    const dir = process.env.WINGMAN_JEST_CLAIMS;
    if (!dir || !options.serial) return super.runTests(tests, watcher, options);
    for (const test of tests) {
      if (watcher.isInterrupted()) return;
      if (claim(dir, test.path)) await super.runTests([test], watcher, options);
    }
  }
}

module.exports = ClaimRunner;
