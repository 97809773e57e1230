/**
 * What the shell's inline script (shell-inline.ts) leaves on
 * `window.__wingmanShell` for the scripts that come after it: the shell's
 * name, which client.js adopts and the app frame's shim looks up, the P2P
 * attempt it started, which client.js carries on as it is (attempt.ts), and
 * the app frame's messages it held. client.js takes them as they are: the app
 * frame shares the origin and could replace them, as it can any of the
 * shell's code, so checking their shape would protect nothing.
 */
import type { P2PAttempt } from './attempt';

export interface ShellHandover {
  /** The shell's name: 24 hex digits. */
  id: string;
  /** The P2P attempt, until client.js takes it. */
  attempt?: P2PAttempt;
  /** The link key the inline script took from the fragment (link-key.ts). */
  linkKey?: string;
  /**
   * What the app frame posted to the shell before client.js listened (a
   * WebSocket the app opens while it parses, ports included): client.js calls
   * `take()` once its own listener is in place, which stops the holding and
   * returns them in order. At most EARLY_FRAME_MESSAGES_MAX.
   */
  frameMessages: { take(): MessageEvent[] };
}

/** Messages from the app frame the inline script holds for client.js. */
export const EARLY_FRAME_MESSAGES_MAX = 64;

/** The window as the shell's scripts see it. */
export type HandoverWindow = Window & { __wingmanShell?: Partial<ShellHandover> };
