/**
 * Viewer identity on the agent control channel. The tunnel server gives each
 * viewer (one browser, one cookie jar; or one cookie-less client per address
 * and user agent) a visitor id, announces it to the agent, and enforces the
 * agent's decisions: admit, refuse (also "revoke" an admitted viewer),
 * refuse every current viewer. `visitorId` tells the identity apart from
 * signaling's per-socket `viewerId` (one browser with two tabs has two
 * signaling viewer ids and one visitor id).
 * Spec: docs/PROTOCOL.md §Viewer identity.
 */
import { MAX_EMAIL_CHARS } from './allowed-emails';
import { protocolError } from './errors';

/** Visitor ids: 32 lower-case hex chars (128 bits, random or keyed by the server). */
export const VISITOR_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Characters of a visitor id shown where one line names a viewer: the agent's log, terminal view and inspector, the server's waiting page, the viewer's diagnostics page. */
export const SHORT_VIEWER_ID_CHARS = 8;

/** The one short form of a visitor id, everywhere a developer or a reviewer sees one. */
export const shortViewerId = (id: string): string => id.slice(0, SHORT_VIEWER_ID_CHARS);

/** How the session admits new viewers: `open` (the link is enough) or `approve` (the developer admits each one). */
export type ViewerGateMode = 'open' | 'approve';

/** Where one viewer stands. */
export type ViewerState = 'waiting' | 'admitted' | 'refused';

/** server → agent: a viewer seen for the first time, or its state changed. */
export interface ViewerMessage {
  type: 'viewer';
  id: string;
  state: ViewerState;
  /** The viewer's address as the server counts it (trusted proxies applied). */
  address: string;
  /** Its User-Agent, cut to MAX_VIEWER_USER_AGENT_CHARS; empty when it sent none. */
  userAgent: string;
  /** First request of this viewer on the session, ms since epoch (server clock). */
  firstSeenAt: number;
  /** On a session with a sign-in gate (`--allow-email`): the email the viewer signed in with, as its identity provider verified it. */
  email?: string;
  /**
   * On a session with a sign-in gate: ms from now (as the server sends it) until the viewer's
   * latest sign-in ends. The agent ends the viewer's P2P channels then by its own clock, so
   * the end holds while its link to the server is down or the server restarted.
   */
  signInEndsInMs?: number;
}

/**
 * server → agent: a waiting viewer the server forgot to make room for
 * another (waiting viewers are capped per address and per session); it
 * comes back as a new viewer with its next request.
 */
export interface ViewerGoneMessage {
  type: 'viewer-gone';
  id: string;
}

/** What the agent decides about viewers. `refuse` of an admitted viewer revokes it; `refuse-all` refuses every viewer the server knows now. */
export type ViewerDecision = 'admit' | 'refuse' | 'refuse-all';

/** agent → server. `id` is required except for `refuse-all`. */
export interface ViewerDecisionMessage {
  type: 'viewer-decision';
  decision: ViewerDecision;
  id?: string;
}

/** Longest time until a sign-in ends that a viewer message may carry, ms: 7 days, the longest SIGN_IN_TTL_S (and within a timer's range). */
export const MAX_SIGN_IN_ENDS_IN_MS = 7 * 86_400 * 1000;

/** Longest User-Agent kept for a viewer, characters (real ones are < 300). */
export const MAX_VIEWER_USER_AGENT_CHARS = 512;

type Obj = Record<string, unknown>;

const bad = (message: string) => protocolError('ERR_INVALID_PAYLOAD', message);

function only(o: Obj, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`unknown field "${k}"`);
}

export function parseVisitorId(v: unknown): string {
  if (typeof v !== 'string' || !VISITOR_ID_PATTERN.test(v)) throw bad('bad visitor id');
  return v;
}

export function parseViewerGateMode(v: unknown): ViewerGateMode {
  if (v !== 'open' && v !== 'approve') throw bad('"viewers" must be "open" or "approve"');
  return v;
}

export function parseViewerMessage(o: Obj): ViewerMessage {
  only(o, ['type', 'id', 'state', 'address', 'userAgent', 'firstSeenAt', 'email', 'signInEndsInMs']);
  const { state, address, userAgent, firstSeenAt } = o;
  if (state !== 'waiting' && state !== 'admitted' && state !== 'refused') throw bad('bad viewer state');
  if (typeof address !== 'string' || address.length > 64) throw bad('"address" must be a string of at most 64 chars');
  if (typeof userAgent !== 'string' || userAgent.length > MAX_VIEWER_USER_AGENT_CHARS)
    throw bad(`"userAgent" must be a string of at most ${MAX_VIEWER_USER_AGENT_CHARS} chars`);
  // Epoch ms, up to year 2286: bounds a garbled value.
  if (typeof firstSeenAt !== 'number' || !Number.isInteger(firstSeenAt) || firstSeenAt < 0 || firstSeenAt > 9_999_999_999_999) throw bad('bad "firstSeenAt"');
  if (o.email !== undefined && (typeof o.email !== 'string' || o.email.length === 0 || o.email.length > MAX_EMAIL_CHARS))
    throw bad(`"email" must be a string of 1-${MAX_EMAIL_CHARS} chars`);
  const ends = o.signInEndsInMs;
  if (ends !== undefined && (typeof ends !== 'number' || !Number.isInteger(ends) || ends < 0 || ends > MAX_SIGN_IN_ENDS_IN_MS))
    throw bad(`"signInEndsInMs" must be an integer of 0-${MAX_SIGN_IN_ENDS_IN_MS}`);
  return {
    type: 'viewer',
    id: parseVisitorId(o.id),
    state,
    address,
    userAgent,
    firstSeenAt,
    ...(o.email !== undefined ? { email: o.email } : {}),
    ...(ends !== undefined ? { signInEndsInMs: ends } : {}),
  };
}

export function parseViewerGone(o: Obj): ViewerGoneMessage {
  only(o, ['type', 'id']);
  return { type: 'viewer-gone', id: parseVisitorId(o.id) };
}

export function parseViewerDecision(o: Obj): ViewerDecisionMessage {
  only(o, ['type', 'decision', 'id']);
  const { decision } = o;
  if (decision !== 'admit' && decision !== 'refuse' && decision !== 'refuse-all') throw bad('bad viewer decision');
  if (decision === 'refuse-all') {
    if (o.id !== undefined) throw bad('"refuse-all" takes no id');
    return { type: 'viewer-decision', decision };
  }
  return { type: 'viewer-decision', decision, id: parseVisitorId(o.id) };
}
