/**
 * What a viewer without access gets: a 401 with a Basic challenge (the browser asks for the password and retries) and
 * a readable page, or a 429 after too many wrong passwords. Upgrades get the same status as a raw response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { sendPage, type PageOptions } from '../http/pages';
import { writeRawText } from '../http/raw-response';
import { ACCESS_REALM, type AccessDecision } from './viewer-access';

type Refusal = Exclude<AccessDecision, { kind: 'granted' }>;

const CHALLENGE: [string, string] = ['www-authenticate', `Basic realm="${ACCESS_REALM}", charset="UTF-8"`];

function page(decision: Refusal): PageOptions {
  if (decision.kind === 'throttled') {
    return {
      status: 429,
      title: 'Too many wrong passwords',
      message: `This shared app saw too many wrong passwords in the last minute. Try again in ${decision.retryAfterS} s.`,
      code: 'ERR_ACCESS_THROTTLED',
    };
  }
  return {
    status: 401,
    title: 'This shared app needs a password',
    message:
      decision.reason === 'wrong'
        ? 'The password was not right. Reload the page to enter it again; the developer who shared the link has it.'
        : 'The developer shared it with a password. Reload the page to enter it (any user name); scripts can send it as HTTP Basic credentials, e.g. `curl -u :PASSWORD`.',
    code: decision.kind === 'denied' && decision.reason === 'wrong' ? 'ERR_ACCESS_DENIED' : 'ERR_ACCESS_REQUIRED',
  };
}

/** Answers `req` (its body, if any, is read and dropped). */
export function sendAccessRefusal(req: IncomingMessage, res: ServerResponse, decision: Refusal): void {
  req.resume();
  if (decision.kind === 'throttled') res.setHeader('retry-after', String(decision.retryAfterS));
  else res.setHeader(CHALLENGE[0], CHALLENGE[1]);
  sendPage(res, page(decision));
}

export function writeAccessRefusal(socket: Duplex, decision: Refusal): void {
  const p = page(decision);
  const headers: Array<[string, string]> = decision.kind === 'throttled' ? [['retry-after', String(decision.retryAfterS)]] : [CHALLENGE];
  writeRawText(socket, p.status, `${p.title}: ${p.message}`, headers);
}
