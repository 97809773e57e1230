/**
 * Viewer identity on the agent control channel: the server's visitor id per browser (one browser with two
 * tabs has one, and two signaling `viewerId`s), announced to the agent, whose decisions the server
 * enforces. docs/PROTOCOL.md §Viewer identity.
 */
import { MAX_EMAIL_CHARS } from './allowed-emails';
import { protocolError } from './errors';
import { int, oneOf, onlyKeys, str, type Obj } from './json-fields';

/** 128 bits, random or keyed by the server. */
export const VISITOR_ID_PATTERN = /^[0-9a-f]{32}$/;

export const SHORT_VIEWER_ID_CHARS = 8;

/** The one short form of a visitor id, everywhere a person sees one (log, inspector, waiting and diagnostics pages). */
export const shortViewerId = (id: string): string => id.slice(0, SHORT_VIEWER_ID_CHARS);

export const VIEWER_GATE_MODES = ['open', 'approve'] as const;
export type ViewerGateMode = (typeof VIEWER_GATE_MODES)[number];

const VIEWER_STATES = ['waiting', 'admitted', 'refused'] as const;
export type ViewerState = (typeof VIEWER_STATES)[number];

/** server → agent: a viewer seen for the first time, or its state changed. */
export interface ViewerMessage {
  type: 'viewer';
  id: string;
  state: ViewerState;
  /** As the server counts it (trusted proxies applied). */
  address: string;
  /** Empty when it sent none. */
  userAgent: string;
  /** Epoch ms, server clock. */
  firstSeenAt: number;
  /** With `--allow-email`: the verified email the viewer signed in with. */
  email?: string;
  /** With `--allow-email`: relative, so the agent ends the viewer's channels by its own clock even without the server. */
  signInEndsInMs?: number;
}

/** server → agent: a waiting viewer forgotten to make room (waiting ones are capped); its next request makes it new again. */
export interface ViewerGoneMessage {
  type: 'viewer-gone';
  id: string;
}

/** `refuse` of an admitted viewer revokes it; `refuse-all`, every viewer the server knows now. */
const VIEWER_DECISIONS = ['admit', 'refuse', 'refuse-all'] as const;
export type ViewerDecision = (typeof VIEWER_DECISIONS)[number];

/** agent → server. `id` is required except for `refuse-all`. */
export interface ViewerDecisionMessage {
  type: 'viewer-decision';
  decision: ViewerDecision;
  id?: string;
}

/** 7 days: the longest SIGN_IN_TTL_S, within a timer's range. */
export const MAX_SIGN_IN_ENDS_IN_MS = 7 * 86_400 * 1000;

/** Real ones are < 300. */
export const MAX_VIEWER_USER_AGENT_CHARS = 512;

const bad = (message: string) => protocolError('ERR_INVALID_PAYLOAD', message);

export function parseVisitorId(v: unknown): string {
  if (typeof v !== 'string' || !VISITOR_ID_PATTERN.test(v)) throw bad('bad visitor id');
  return v;
}

export function parseViewerMessage(o: Obj): ViewerMessage {
  onlyKeys(o, ['type', 'id', 'state', 'address', 'userAgent', 'firstSeenAt', 'email', 'signInEndsInMs']);
  const m: ViewerMessage = {
    type: 'viewer',
    id: parseVisitorId(o.id),
    state: oneOf(o.state, 'state', VIEWER_STATES),
    address: str(o, 'address', 64),
    userAgent: str(o, 'userAgent', MAX_VIEWER_USER_AGENT_CHARS),
    // Epoch ms, up to year 2286: bounds a garbled value.
    firstSeenAt: int(o, 'firstSeenAt', 0, 9_999_999_999_999),
  };
  if (o.email !== undefined) m.email = str(o, 'email', MAX_EMAIL_CHARS, 1);
  if (o.signInEndsInMs !== undefined) m.signInEndsInMs = int(o, 'signInEndsInMs', 0, MAX_SIGN_IN_ENDS_IN_MS);
  return m;
}

export function parseViewerGone(o: Obj): ViewerGoneMessage {
  onlyKeys(o, ['type', 'id']);
  return { type: 'viewer-gone', id: parseVisitorId(o.id) };
}

export function parseViewerDecision(o: Obj): ViewerDecisionMessage {
  onlyKeys(o, ['type', 'decision', 'id']);
  const decision = oneOf(o.decision, 'decision', VIEWER_DECISIONS);
  if (decision === 'refuse-all') {
    if (o.id !== undefined) throw bad('"refuse-all" takes no id');
    return { type: 'viewer-decision', decision };
  }
  return { type: 'viewer-decision', decision, id: parseVisitorId(o.id) };
}
