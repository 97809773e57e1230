/**
 * What the shell's inline script (shell-inline.ts) leaves on
 * `window.__wingmanShell` for the scripts that come after it: the shell's
 * name, which client.js adopts and the app frame's shim looks up, and the
 * P2P attempt it started, which client.js takes over (early-attempt.ts).
 * The app frame shares the origin and can write there too, so readers check
 * what they find.
 */
import type { ChannelInbox } from '@wingman/protocol';
import type { ShellPeer } from './peer-connection';

/** The early P2P attempt, as early-attempt-inline.ts writes it. */
export interface EarlyAttemptHandover {
  ws: WebSocket;
  /** Signaling messages received before client.js took over, in order. */
  messages: unknown[];
  /** Milestones (performance.now()): attempt, signal-open, hello, offer, answer-in. */
  marks: Record<string, number>;
  /** Settles once what the inline script sent so far has left (its MACs are computed asynchronously). */
  sent: () => Promise<void>;
  /** Made on a hello with P2P enabled, from its ICE servers. */
  peer?: EarlyPeer;
}

/** The early attempt's peer connection and channels (peer-connection.ts). */
export interface EarlyPeer extends ShellPeer {
  /** Fulfilled once its offer was sent; rejected when it could not be made. */
  offered: Promise<void>;
  /** What `dc` received before client.js took it (the protocol's transports/channel-inbox.ts). */
  inbox?: ChannelInbox;
}

export interface ShellHandover {
  /** The shell's name: 24 hex digits. */
  id: string;
  /** Until client.js takes it. */
  early?: EarlyAttemptHandover;
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
