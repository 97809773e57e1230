/**
 * What the shell's inline script (shell-inline.ts) leaves on
 * `window.__wingmanShell` for the scripts that come after it. client.js takes
 * it as it is: the app frame shares the origin and could replace it, as it
 * can any of the shell's code, so checking its shape would protect nothing.
 */
import type { P2PAttempt } from './attempt';

export interface ShellHandover {
  /** The shell's name: 24 hex digits. */
  id: string;
  /** The P2P attempt, until client.js takes it. */
  attempt?: P2PAttempt;
  /** The link key the inline script took from the fragment (link-key.ts). */
  linkKey?: string;
  /** What the app frame posted before client.js listened: `take()` stops the holding and returns them in order. */
  frameMessages: { take(): MessageEvent[] };
}

/** Messages from the app frame the inline script holds for client.js. */
export const EARLY_FRAME_MESSAGES_MAX = 64;

export type HandoverWindow = Window & { __wingmanShell?: Partial<ShellHandover> };
