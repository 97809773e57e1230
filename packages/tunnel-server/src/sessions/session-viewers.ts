/**
 * What a session keeps of its viewers (the viewer gate's state, viewers/viewer-gate.ts), on its own so that the
 * session registry can hold it without importing the gate.
 */
import type { ViewerGateMode, ViewerState } from '@wingman/protocol';

export interface ViewerRecord {
  readonly id: string;
  state: ViewerState;
  readonly address: string;
  readonly userAgent: string;
  readonly firstSeenAt: number;
  /** The email it signed in with, on a session with a sign-in gate. */
  email?: string;
  /** When its latest sign-in ends, ms since the epoch; cleared once ended (viewers/viewer-gate.ts ends what it holds then). */
  signInUntil?: number;
}

/** A request's sign-in on a session with a sign-in gate (access/sign-in-gate.ts): the email, and when that sign-in ends (ms since the epoch). */
export interface SignedIn {
  email?: string;
  until?: number;
}

export interface SessionViewers {
  mode: ViewerGateMode;
  /** Least recently seen first. */
  readonly records: Map<string, ViewerRecord>;
  readonly refusedIds: Set<string>;
  /** Emails of signed-in viewers the developer refused: the same person signing in from a new browser is refused too. */
  readonly refusedEmails: Set<string>;
  /** What each viewer holds open here, to close when it is refused. */
  readonly live: Map<string, Set<() => void>>;
  /** The timer for the next sign-in of a viewer to end, and when. */
  signInEnds?: { at: number; timer: NodeJS.Timeout };
}
