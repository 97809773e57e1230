/**
 * The inline bundle's size budget (bundle-budget.mjs): build.mjs runs this
 * check on dist/shell-inline.js, so a bundle over budget fails the build.
 */
import { randomBytes } from 'node:crypto';
import { checkBundleBudget, gzippedBytes, SHELL_INLINE_MAX_GZIP_BYTES } from '../../bundle-budget.mjs';

describe("the shell inline script's size budget", () => {
  it('fails a bundle over the budget, naming its gzipped size and the budget', () => {
    // Random bytes as base64 hardly compress: about three quarters of the text's length gzipped.
    const oversized = randomBytes(SHELL_INLINE_MAX_GZIP_BYTES * 2).toString('base64');
    const size = gzippedBytes(oversized);
    expect(size).toBeGreaterThan(SHELL_INLINE_MAX_GZIP_BYTES);
    expect(() => checkBundleBudget('dist/shell-inline.js', oversized)).toThrow(
      `dist/shell-inline.js is ${size} bytes gzipped, over its budget of ${SHELL_INLINE_MAX_GZIP_BYTES}`,
    );
  });

  it('counts gzipped bytes: a byte over the budget fails, the budget itself passes', () => {
    const text = randomBytes(3_000).toString('base64');
    const size = gzippedBytes(text);
    expect(() => checkBundleBudget('x.js', text, size - 1)).toThrow(/over its budget/);
    expect(checkBundleBudget('x.js', text, size)).toBe(size);
  });
});
