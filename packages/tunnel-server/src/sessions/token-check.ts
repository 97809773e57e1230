/** Agent authentication: `Authorization: Bearer <token>` against the configured token list. */
import type { IncomingMessage } from 'node:http';
import { constantTimeEqual } from './session-id';

export type TokenCheck = (req: IncomingMessage) => boolean;

export function createTokenCheck(tokens: readonly string[]): TokenCheck {
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') return false;
    const match = /^Bearer +([\x21-\x7e]{1,512}) *$/i.exec(header);
    if (!match) return false;
    const presented = match[1]!;
    // Compare against every token, without stopping early, so the time taken
    // says nothing about which token (or how much of one) matched.
    let ok = false;
    for (const token of tokens) ok = constantTimeEqual(presented, token) || ok;
    return ok;
  };
}
