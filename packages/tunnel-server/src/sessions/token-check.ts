/** Bearer tokens: `Authorization: Bearer <token>` against a configured list (the agents' tokens; the metrics token). */
import type { IncomingMessage } from 'node:http';
import { constantTimeEqual } from './session-id';

/** The check of a request against `tokens`: the configured token it presented, or undefined when it presented none of them. */
export function createTokenCheck(tokens: readonly string[]): (req: IncomingMessage) => string | undefined {
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return undefined;
    const match = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(header);
    if (!match) return undefined;
    const presented = match[1]!;
    // Compare against every token, without stopping early, so the time taken says nothing about which token (or how much of one) matched.
    let found: string | undefined;
    for (const token of tokens) if (constantTimeEqual(presented, token)) found ??= token;
    return found;
  };
}
