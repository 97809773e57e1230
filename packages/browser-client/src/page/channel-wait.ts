/**
 * Whether to wait for the data channel, for a request that keeps its path
 * for long (an app WebSocket): when a channel is coming (shared/channel-coming.ts,
 * the same rule the Service Worker applies to HTTP requests). The facts of a
 * page: a direct channel was open in this tab on this origin before (a
 * reload, a full navigation: sessionStorage survives both), and this page's
 * first attempt, started with the page, is still connecting. A failed attempt
 * forgets the tab's P2P (the network may have changed), so a tab where P2P
 * does not work never waits; so does a channel through TURN (no shorter than
 * the relay).
 */
import type { Connection } from '@wingman/protocol';
import { channelComing } from '../shared/channel-coming';
import { P2P_SEEN_STORAGE_KEY, CHANNEL_COMING_WAIT_MS } from '../shared/constants';
import type { P2PManager, TransportStatus } from './p2p';

export interface ChannelWait {
  /** A promise of the connection (undefined if it does not come within CHANNEL_COMING_WAIT_MS) when waiting is worth it; else undefined. */
  soon(): Promise<Connection | undefined> | undefined;
}

/** sessionStorage, or nothing where storage is disabled. */
function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export function createChannelWait(p2p: Pick<P2PManager, 'connection' | 'status' | 'onStatus'>, waitMs = CHANNEL_COMING_WAIT_MS): ChannelWait {
  const store = storage();
  const waiting = new Set<(s: TransportStatus) => void>();
  p2p.onStatus((s) => {
    try {
      if (s.transport === 'p2p' && !s.turn) store?.setItem(P2P_SEEN_STORAGE_KEY, '1');
      else if (s.transport === 'p2p' || s.reason !== 'connecting') store?.removeItem(P2P_SEEN_STORAGE_KEY);
    } catch {
      /* storage full or disabled: no wait next time */
    }
    for (const fn of [...waiting]) fn(s);
  });
  return {
    soon() {
      const s = p2p.status();
      const connecting = s.transport === 'relay' && s.reason === 'connecting';
      // The first attempt starts with the page: its age is the page's.
      if (!channelComing({ directChannelSeen: store?.getItem(P2P_SEEN_STORAGE_KEY) === '1', connectingForMs: connecting ? performance.now() : undefined }))
        return undefined;
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(onStatus);
          resolve(p2p.connection());
        };
        const onStatus = (next: TransportStatus) => {
          if (next.transport === 'p2p' || next.reason !== 'connecting') done();
        };
        const timer = setTimeout(done, waitMs);
        waiting.add(onStatus);
      });
    },
  };
}
