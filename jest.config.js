/**
 * Jest projects: unit (fast, no network), integration (real processes on
 * loopback; run in band), e2e (real headless Chromium), lab (network namespaces).
 * `npm test` (scripts/run-tests.mjs) runs all of them inside a loopback-only
 * network namespace; see docs/testing.md.
 */
// .mjs too: the tests share scripts/lib/*.mjs (process and wait helpers) with the scripts.
const transform = { '^.+\\.(t|m?j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] };
const moduleNameMapper = { '^@wingman/([a-z-]+)$': '<rootDir>/packages/$1/src' };
const base = { transform, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/packages/*/test/unit/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'] },
    { ...base, displayName: 'integration', testMatch: ['<rootDir>/packages/*/test/integration/**/*.test.ts', '<rootDir>/test/integration/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/packages/*/test/e2e/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'] },
    { ...base, displayName: 'lab', testMatch: ['<rootDir>/packages/*/test/lab/**/*.test.ts', '<rootDir>/test/lab/**/*.test.ts'] },
  ],
};
