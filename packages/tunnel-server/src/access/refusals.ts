/**
 * What a viewer the session's gates refuse gets (routing/router.ts): a readable page with the header fields that go
 * with it, and for an upgrade the same status as raw text.
 * - Address rules (address-rules.ts): a 403 that says why and shows the address the server saw (behind a proxy, the
 *   one it resolved). The session's CIDRs are not shown: they describe the developer's networks.
 * - Viewer password (viewer-access.ts): a 401 with a Basic challenge (the browser asks for the password and retries),
 *   or a 429 after too many wrong passwords.
 * - Sign-in gate (sign-in-gate.ts): a redirect to the server's sign-in, a 401 for what is not a navigation, a 403 that
 *   names the signed-in email the session does not allow, the hand-off's redirect with the session's cookie.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { redirect, sendPage, type PageOptions } from '../http/pages';
import { writeRawText } from '../http/raw-response';
import type { AddressVerdict } from './address-rules';
import type { SignInDecision } from './sign-in-gate';
import { ACCESS_REALM, type AccessDecision } from './viewer-access';

/** A refusal: its page, the header fields that go with it, and what an upgrade reads (default: the page's title, message and code). */
interface Refusal extends PageOptions {
  headers?: Array<[string, string]>;
  text?: string;
}

type SignInAnswer = Exclude<SignInDecision, { kind: 'granted' }>;

const WHY: Record<Extract<AddressVerdict, { kind: 'refused' }>['reason'], string> = {
  denied: 'the developer who shared this app refused the network it comes from',
  'not-allowed': 'the developer who shared this app opened it only to certain networks, and it is not on one of them',
  unreadable: 'it is not an IP address, so the developer’s address rules cannot be applied to it',
};

export function addressRefusal(verdict: Extract<AddressVerdict, { kind: 'refused' }>): Refusal {
  return {
    status: 403,
    title: 'Your address may not open this link',
    message: `This server sees your request coming from ${verdict.address || 'an unknown address'}: ${WHY[verdict.reason]}. Connect from an allowed network (the office, its VPN), or ask the developer.`,
    code: 'ERR_ADDRESS_REFUSED',
  };
}

export function accessRefusal(decision: Exclude<AccessDecision, { kind: 'granted' }>): Refusal {
  const page: PageOptions =
    decision.kind === 'throttled'
      ? {
          status: 429,
          title: 'Too many wrong passwords',
          message: `This shared app saw too many wrong passwords in the last minute. Try again in ${decision.retryAfterS} s.`,
          code: 'ERR_ACCESS_THROTTLED',
        }
      : {
          status: 401,
          title: 'This shared app needs a password',
          message:
            decision.reason === 'wrong'
              ? 'The password was not right. Reload the page to enter it again; the developer who shared the link has it.'
              : 'The developer shared it with a password. Reload the page to enter it (any user name); scripts can send it as HTTP Basic credentials, e.g. `curl -u :PASSWORD`.',
          code: decision.reason === 'wrong' ? 'ERR_ACCESS_DENIED' : 'ERR_ACCESS_REQUIRED',
        };
  const header: [string, string] =
    decision.kind === 'throttled' ? ['retry-after', String(decision.retryAfterS)] : ['www-authenticate', `Basic realm="${ACCESS_REALM}", charset="UTF-8"`];
  return { ...page, headers: [header], text: `${page.title}: ${page.message}` };
}

/** The sign-in gate's refusals (its redirects are sendSignInAnswer's; an upgrade gets a 401 for them). */
export function signInRefusal(decision: SignInAnswer): Refusal {
  switch (decision.kind) {
    case 'sign-in':
    case 'handed-off':
    case 'required':
      return {
        status: 401,
        title: 'Sign in to open this app',
        code: 'ERR_SIGN_IN_REQUIRED',
        ...(decision.kind === 'required'
          ? {
              message: "The developer shared it with people of their team only: sign in with your work account first (open the app's link in a browser).",
              link: { href: decision.signInUrl, text: 'Sign in' },
            }
          : { message: '', text: 'Sign in first: open the session in a browser (ERR_SIGN_IN_REQUIRED)' }),
      };
    case 'forbidden':
      return {
        status: 403,
        title: 'This account may not open this app',
        message: `You are signed in as ${decision.email}, which the developer did not allow for this app. Ask them to add it (\`--allow-email\`), or sign in with another account.`,
        code: 'ERR_EMAIL_NOT_ALLOWED',
        link: { href: decision.switchUrl, text: 'Sign in with another account' },
      };
    case 'bad-handoff':
      return {
        status: 400,
        title: 'Sign-in failed',
        message: decision.otherBrowser
          ? 'This sign-in was started in another browser (or this browser did not keep its cookie), so nobody was signed in. Open the link the developer shared in this browser to sign in.'
          : 'This sign-in hand-off is not valid: it was already used, is more than a minute old, or is for another app. Open the link the developer shared to sign in again.',
        code: 'ERR_SIGN_IN_FAILED',
      };
  }
}

/** Answers `req` (its body, if any, is read and dropped). */
export function sendRefusal(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  req.resume();
  for (const [name, value] of refusal.headers ?? []) res.setHeader(name, value);
  sendPage(res, refusal);
}

export function writeRefusal(socket: Duplex, refusal: Refusal): void {
  writeRawText(socket, refusal.status, refusal.text ?? `${refusal.title}: ${refusal.message} (${refusal.code})`, refusal.headers);
}

/** The sign-in gate's answer to a request: its redirect, or its refusal. */
export function sendSignInAnswer(req: IncomingMessage, res: ServerResponse, decision: SignInAnswer): void {
  if (decision.kind !== 'sign-in' && decision.kind !== 'handed-off') return sendRefusal(req, res, signInRefusal(decision));
  req.resume();
  redirect(res, decision.location, decision.setCookie);
}
