/**
 * What the shell's inline script (shell-inline.ts) leaves on
 * `window.__wingmanShell` for the scripts that come after it: the shell's
 * name, which client.js adopts and the app frame's shim looks up, the P2P
 * attempt it started, which client.js carries on as it is (attempt.ts), and
 * the app frame's messages it held.
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
  frameMessages?: { take(): MessageEvent[] };
}

/** Messages from the app frame the inline script holds for client.js. */
export const EARLY_FRAME_MESSAGES_MAX = 64;

/** The window as the shell's scripts see it. */
export type HandoverWindow = Window & { __wingmanShell?: Partial<ShellHandover> };

/**
 * Takes the app frame's messages the inline script held (`frameMessages`),
 * checked: the app frame shares the origin and can write the handover too.
 */
export function heldFrameMessages(found: unknown): MessageEvent[] {
  const take = (found as { take?: unknown } | null | undefined)?.take;
  if (typeof take !== 'function') return [];
  let taken: unknown;
  try {
    taken = (take as () => unknown).call(found);
  } catch {
    return [];
  }
  if (!Array.isArray(taken)) return [];
  return taken.filter((e): e is MessageEvent => e instanceof MessageEvent).slice(0, EARLY_FRAME_MESSAGES_MAX);
}
