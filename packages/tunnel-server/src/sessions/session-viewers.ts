/**
 * What a session keeps of its viewers (the viewer gate's state, viewers/viewer-gate.ts),
 * on its own so that the session registry can hold it without importing the gate.
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
}

/** A session's viewers. */
export interface SessionViewers {
  mode: ViewerGateMode;
  /** Least recently seen first. */
  readonly records: Map<string, ViewerRecord>;
  readonly refusedIds: Set<string>;
  /** What each viewer holds open here, to close when it is refused. */
  readonly live: Map<string, Set<() => void>>;
}
