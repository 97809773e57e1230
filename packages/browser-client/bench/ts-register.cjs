// Lets Node require the bench's TypeScript (and the test helpers it reuses)
// in place, so every module keeps its own __dirname: transpiled with
// @swc/core (already a dev dependency, as jest uses it), `@wingman/<pkg>`
// mapped to packages/<pkg>/src like jest's moduleNameMapper.
const Module = require('node:module');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

const root = join(__dirname, '..', '..', '..');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const m = /^@wingman\/([a-z-]+)$/.exec(request);
  return resolve.call(this, m ? join(root, 'packages', m[1], 'src') : request, parent, ...rest);
};
require.extensions['.ts'] = function (module, filename) {
  const source = require('node:fs').readFileSync(filename, 'utf8');
  const { code } = transformSync(source, {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
