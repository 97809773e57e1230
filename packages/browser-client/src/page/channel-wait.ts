/**
 * Whether a long-lived request (an app WebSocket) waits for a coming channel: this tab had a direct channel
 * on this origin (sessionStorage) and the page's first attempt is still connecting. A failed attempt
 * forgets it, and a TURN channel is no shorter than the relay.
 */
import type { Connection } from '@wingman/protocol';
import { P2P_SEEN_STORAGE_KEY, CHANNEL_COMING_WAIT_MS } from '../shared/constants';
import type { P2PManager, TransportStatus } from './p2p';
import { quietly } from '../shared/quietly';
import { settleWithin } from '../shared/settle-within';

interface ChannelComingFacts {
  /** A direct channel was open on this origin before (this tab's session storage). */
  directChannelSeen: boolean;
  /** Age of the attempt that is still connecting, ms; undefined when none is. */
  connectingForMs: number | undefined;
}

/** "A data channel is coming": worth holding a WebSocket for (at most CHANNEL_COMING_WAIT_MS) instead of opening it over the relay. */
export function channelComing(facts: ChannelComingFacts): boolean {
  return facts.directChannelSeen && facts.connectingForMs !== undefined && facts.connectingForMs < CHANNEL_COMING_WAIT_MS;
}

export function createChannelWait(p2p: Pick<P2PManager, 'connection' | 'status' | 'onStatus'>, waitMs = CHANNEL_COMING_WAIT_MS) {
  // sessionStorage, or nothing where storage is disabled.
  const store = quietly(() => window.sessionStorage);
  const waiting = new Set<(s: TransportStatus) => void>();
  p2p.onStatus((s) => {
    // Storage full or disabled: no wait next time.
    if (s.transport === 'p2p' && !s.turn) quietly(() => store?.setItem(P2P_SEEN_STORAGE_KEY, '1'));
    else if (s.transport === 'p2p' || s.reason !== 'connecting') quietly(() => store?.removeItem(P2P_SEEN_STORAGE_KEY));
    for (const fn of [...waiting]) fn(s);
  });
  return {
    /** A promise of the connection (undefined if it does not come within CHANNEL_COMING_WAIT_MS) when waiting is worth it; else undefined. */
    soon(): Promise<Connection | undefined> | undefined {
      const s = p2p.status();
      const connecting = s.transport === 'relay' && s.reason === 'connecting';
      // The first attempt starts with the page: its age is the page's.
      if (!channelComing({ directChannelSeen: store?.getItem(P2P_SEEN_STORAGE_KEY) === '1', connectingForMs: connecting ? performance.now() : undefined }))
        return undefined;
      return settleWithin<void>(waitMs, undefined, (settle) => {
        const onStatus = (next: TransportStatus) => (next.transport === 'p2p' || next.reason !== 'connecting') && settle();
        waiting.add(onStatus);
        return () => waiting.delete(onStatus);
      }).then(() => p2p.connection());
    },
  };
}
