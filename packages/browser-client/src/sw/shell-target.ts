import type { ExchangePort } from '../shared/exchange-mux';

/** Where the Service Worker sends requests for one shell window (sw/shell-registry.ts keeps them, sw/shell-fetch.ts uses them). */
export interface ShellTarget {
  /** The shell window's client id (liveness checks). */
  id: string;
  /** Posts to the shell: over the MessagePort it sent with its announcement (a direct pipe), else through Client.postMessage. */
  post(message: unknown, transfer: Transferable[]): void;
  /** Opens a request exchange on the shell's port (shared/exchange-mux.ts); absent without a port. */
  exchange?(first: unknown): ExchangePort;
  /** Aborted when this shell's channel ends (announced gone, page leaving, window gone): what it has not accepted goes to the relay. */
  channelGone?: AbortSignal;
}

/** The shell picked for one request. */
export interface ShellPick extends ShellTarget {
  /** The requesting document's own shell: the same tab, so the same renderer main thread. */
  ownTab: boolean;
  /** Its channel goes through a TURN server (the relay is then each class's default path). */
  turn: boolean;
  /** A private session's: every request goes over its channel. Absent: false. */
  private?: boolean;
  /** The shell's id (ShellAnnounce.shellId). */
  shellId: string;
}
