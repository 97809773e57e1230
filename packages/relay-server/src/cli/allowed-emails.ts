/**
 * `--allow-email <pattern>` (repeatable; `policy.allowEmail` in `wingman
 * start`'s file): the emails whose viewers may open the session once they
 * signed in with the tunnel server's identity provider — one address
 * (`alice@example.com`) or a whole domain (`*@example.com`). Checked and
 * lower-cased here (@wingman/protocol's allowed-emails.ts) so a typo stops
 * `wingman` before it connects; the tunnel server applies them (docs/cli.md).
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
