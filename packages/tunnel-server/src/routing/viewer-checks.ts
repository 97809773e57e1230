/**
 * The router's checks of who may reach a session (routing/router.ts): the address rules, the link, the viewer
 * password, the sign-in, the viewer gate, and the tie between an admitted viewer's stream and the developer's
 * decision on that viewer.
 */
import type { IncomingMessage } from 'node:http';
import { LINK_PATH, VIA_HEADER, VIA_SW, type Stream } from '@wingman/protocol';
import { addressVerdict, type AddressVerdict } from '../access/address-rules';
import type { LinkAccessGate, LinkDecision } from '../access/link-access';
import type { AccessDecision, ViewerAccessGate } from '../access/viewer-access';
import type { SignInDecision, SignInGate } from '../access/sign-in-gate';
import type { Logger } from '../logger';
import type { Session } from '../sessions/registry';
import type { SignedIn } from '../sessions/session-viewers';
import type { ViewerCheck, ViewerGate } from '../viewers/viewer-gate';
import { tagViewer } from '../viewers/tag-viewer';
import { pathnameOf } from './reserved-routes';

interface ViewerCheckOptions {
  logger: Logger;
  /** The viewer's address of a request (what the gates count by). */
  viewerAddress: (req: IncomingMessage) => string;
  accessGate: ViewerAccessGate;
  linkGate: LinkAccessGate;
  viewerGate: ViewerGate;
  signInGate?: SignInGate;
}

export function createViewerChecks(options: ViewerCheckOptions) {
  const { logger, viewerAddress: viewerOf } = options;

  /**
   * Sessions with address rules (access/address-rules.ts): checked first, on everything of the origin, against the
   * address every per-viewer limit counts by (trusted proxies, cluster hops).
   */
  function checkAddress(req: IncomingMessage, session: Session | undefined): AddressVerdict {
    if (!session?.addressRules) return { kind: 'allowed' };
    const verdict = addressVerdict(session.addressRules, viewerOf(req));
    if (verdict.kind === 'refused') logger.debug({ sessionId: session.id, address: verdict.address, reason: verdict.reason }, 'viewer refused: address rules');
    return verdict;
  }
  /**
   * Password-protected sessions: everything on the origin, reserved paths included, needs access. Decides, then
   * removes the gate's credentials from the request. Open sessions and unknown ids pass unchanged.
   */
  function checkAccess(req: IncomingMessage, session: Session | undefined): AccessDecision {
    if (!session?.access) return { kind: 'granted' };
    const source = viewerOf(req);
    const decision = options.accessGate.check(req, session.access, { fromServiceWorker: req.headers[VIA_HEADER] === VIA_SW, source });
    if (decision.kind === 'granted') options.accessGate.scrub(req, session.access);
    else logger.debug({ sessionId: session.id, decision: decision.kind, source }, 'viewer refused: no access');
    return decision;
  }

  /**
   * Sessions with a link verifier: everything on the origin, reserved paths included, needs the link cookie or the
   * token (access/link-access.ts). The link's credentials are removed from what passes with Wingman's other cookies
   * (tag-viewer.ts), on every session.
   */
  function checkLink(req: IncomingMessage, session: Session | undefined): LinkDecision {
    // The bootstrap page's POST earns the cookie whoever sends it; the Service Worker's relay fetches never do.
    const earnCookie = req.headers[VIA_HEADER] !== VIA_SW || pathnameOf(req.url) === LINK_PATH;
    const decision = session?.link ? options.linkGate.check(req, session.link, { earnCookie }) : ({ kind: 'granted' } as const);
    if (decision.kind === 'denied') logger.debug({ sessionId: session!.id }, 'viewer refused: no link');
    return decision;
  }

  /**
   * Sessions with a sign-in gate (`--allow-email`, access/sign-in-gate.ts): everything on the origin needs a sign-in
   * whose email the session allows. Its cookie is removed with Wingman's other cookies (tag-viewer.ts).
   */
  function checkSignIn(req: IncomingMessage, sessionId: string, session: Session | undefined): SignInDecision {
    if (!session?.allowEmails || !options.signInGate) return { kind: 'granted' };
    const decision = options.signInGate.check(req, sessionId, session);
    if (decision.kind === 'forbidden') logger.debug({ sessionId, email: decision.email }, 'viewer refused: email not allowed');
    return decision;
  }

  /** Sessions with a viewer gate: who sent `req` (and its sign-in, if any), and whether it may pass. Tags what passes with its viewer (tag-viewer.ts). */
  function checkViewer(req: IncomingMessage, session: Session | undefined, signIn?: SignedIn): ViewerCheck {
    if (!session?.viewers) {
      tagViewer(req, undefined);
      return { kind: 'open' };
    }
    const check = options.viewerGate.check(req, session, viewerOf(req), signIn);
    tagViewer(req, check.kind === 'open' ? undefined : check.viewer.id);
    if (check.kind === 'waiting' || check.kind === 'refused')
      logger.debug({ sessionId: session.id, viewer: check.viewer.id, state: check.kind }, 'viewer held back');
    return check;
  }

  /**
   * A stream of an admitted viewer ends when the developer refuses that viewer, and so does its connection (`cut`): a
   * local reset alone tells only the agent.
   */
  function tieToViewer(session: Session, check: ViewerCheck, stream: Stream | undefined, cut: () => void): void {
    if (!stream || stream.closed || check.kind !== 'admitted') return;
    const release = options.viewerGate.hold(session, check.viewer.id, () => {
      stream.reset('ERR_CANCEL', 'viewer refused by the developer');
      cut();
    });
    stream.once('close', release);
  }

  return { checkAddress, checkAccess, checkLink, checkSignIn, checkViewer, tieToViewer };
}
