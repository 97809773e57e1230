/**
 * `--allow-email` (and `policy.allowEmail`): one address or `*@domain`,
 * checked and lower-cased so a typo stops `wingman` before it connects; the
 * tunnel server applies them (docs/cli.md).
 */
import { MAX_ALLOWED_EMAILS, normaliseEmailPattern } from '@wingman/protocol';
import { UsageError } from './usage-error';

/** The session's email patterns, or undefined when --allow-email is not given. */
export function resolveAllowedEmails(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const patterns = values.map((text) => {
    const pattern = normaliseEmailPattern(text);
    if (pattern === undefined)
      throw new UsageError(`invalid --allow-email "${text}": expected an email address (alice@example.com) or every address of a domain ('*@example.com')`);
    return pattern;
  });
  if (patterns.length > MAX_ALLOWED_EMAILS) throw new UsageError(`--allow-email: ${patterns.length} given, at most ${MAX_ALLOWED_EMAILS}`);
  return [...new Set(patterns)];
}
