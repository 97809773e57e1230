/**
 * The one definition of "a data channel is coming": worth holding a request
 * for (at most CHANNEL_COMING_WAIT_MS) instead of sending it over the relay.
 * True when a direct channel (not through TURN) was open on this origin
 * before — so P2P works from this browser — and an attempt started within
 * CHANNEL_COMING_WAIT_MS is still connecting (a reload, a full navigation,
 * a new tab). A failed attempt, or one through TURN, is nothing to wait for.
 * The Service Worker asks it for HTTP requests (shell-registry.ts), the shell
 * page for app WebSockets (page/channel-wait.ts); each gathers the facts
 * from what it can see.
 */
import { CHANNEL_COMING_WAIT_MS } from './constants';

export interface ChannelComingFacts {
  /** A direct channel was open on this origin before (this SW's life; this tab's session storage). */
  directChannelSeen: boolean;
  /** Age of the youngest attempt that is still connecting, ms; undefined when none is. */
  connectingForMs: number | undefined;
}

export function channelComing(facts: ChannelComingFacts): boolean {
  return facts.directChannelSeen && facts.connectingForMs !== undefined && facts.connectingForMs < CHANNEL_COMING_WAIT_MS;
}
