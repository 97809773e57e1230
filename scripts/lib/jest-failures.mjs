/**
 * The failing tests named in one jest --json results object, each with its
 * message's first lines: what the runner's summary and the census print.
 */
import { relative } from 'node:path';

/** Longest error summary kept per failing test, characters. */
const ERROR_CHARS = 240;
/** Lines of the message kept: an expect() failure says what it wanted and got in its second and third. */
const ERROR_LINES = 3;

/**
 * @param {any} results jest's --json output, parsed
 * @param {string} root the paths are printed relative to it
 * @returns {Array<{ test: string, error: string }>}
 */
export function failedTests(results, root) {
  const failures = [];
  for (const file of results?.testResults ?? []) {
    const name = relative(root, file.name);
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) failures.push({ test: `${name} › ${a.fullName}`, error: errorSummary(a.failureMessages?.[0]) });
    // A file that failed outside any test (beforeAll, an import, a leaked error).
    if (failed.length === 0 && file.status === 'failed') failures.push({ test: `${name} (the file)`, error: errorSummary(file.message) });
  }
  return failures;
}

/**
 * The message's first lines, up to its stack, on one line.
 * @param {string | undefined} text
 */
function errorSummary(text) {
  const lines = String(text ?? '')
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim());
  const end = lines.findIndex((l) => l.startsWith('at '));
  const line = (end < 0 ? lines : lines.slice(0, end))
    // jest's own headings ("● Test suite failed to run") say nothing of the cause.
    .filter((l) => l.length > 0 && !l.startsWith('●'))
    .slice(0, ERROR_LINES)
    .join(' · ');
  return line.length > ERROR_CHARS ? `${line.slice(0, ERROR_CHARS - 1)}…` : line;
}
