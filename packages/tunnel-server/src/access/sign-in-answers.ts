/**
 * What the sign-in gate answers a viewer (access/sign-in-gate.ts): a redirect to the server's sign-in, a 401 for what
 * is not a navigation, a 403 that names the signed-in email the session does not allow, the hand-off's redirect with
 * the session's cookie. Upgrades get the same status as a raw response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { redirect, sendPage, type PageOptions } from '../http/pages';
import { writeRawText } from '../http/raw-response';
import type { SignInDecision } from './sign-in-gate';

type Refusal = Exclude<SignInDecision, { kind: 'granted' }>;

function page(decision: Exclude<Refusal, { kind: 'sign-in' } | { kind: 'handed-off' }>): PageOptions {
  switch (decision.kind) {
    case 'required':
      return {
        status: 401,
        title: 'Sign in to open this app',
        message: "The developer shared it with people of their team only: sign in with your work account first (open the app's link in a browser).",
        code: 'ERR_SIGN_IN_REQUIRED',
        link: { href: decision.signInUrl, text: 'Sign in' },
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
          ? 'This sign-in was started in another browser (or this browser did not keep its cookie), so nobody was signed in here. Open the link the developer shared in this browser to sign in.'
          : 'This sign-in hand-off is not valid: it was already used, is more than a minute old, or is for another app. Open the link the developer shared to sign in again.',
        code: 'ERR_SIGN_IN_FAILED',
      };
  }
}

/** Answers `req` (its body, if any, is read and dropped). */
export function sendSignInAnswer(req: IncomingMessage, res: ServerResponse, decision: Refusal): void {
  req.resume();
  if (decision.kind === 'sign-in' || decision.kind === 'handed-off') return redirect(res, decision.location, decision.setCookie);
  sendPage(res, page(decision));
}

export function writeSignInRefusal(socket: Duplex, decision: Refusal): void {
  if (decision.kind === 'sign-in' || decision.kind === 'handed-off')
    return writeRawText(socket, 401, 'Sign in first: open the session in a browser (ERR_SIGN_IN_REQUIRED)');
  const p = page(decision);
  writeRawText(socket, p.status, `${p.title}: ${p.message} (${p.code})`);
}
