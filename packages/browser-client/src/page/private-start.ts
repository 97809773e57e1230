/**
 * When a private session's shell loads the app (`wingman http --private`,
 * docs/PROTOCOL.md §Verified channels): its tunnel server relays nothing of
 * the app, so the frame waits for a verified channel. Without one to come
 * (a link without its key, no WebRTC, P2P given up) the frame loads anyway
 * and shows the server's page that says why this browser cannot see the app.
 */
import type { P2PManager, TransportStatus } from './p2p';

function decided(s: TransportStatus, keyed: boolean): boolean {
  if (!keyed) return true;
  if (s.transport === 'p2p') return s.verified;
  return / gave up$/.test(s.reason) || s.reason.startsWith('P2P disabled') || s.reason.startsWith('no WebRTC');
}

/** Resolves once the app may load: over a verified channel, or to show why there is none. */
export function privateAppReady(p2p: Pick<P2PManager, 'status' | 'onStatus' | 'keyed'>): Promise<void> {
  return new Promise((resolve) => {
    if (decided(p2p.status(), p2p.keyed)) return resolve();
    p2p.onStatus((s) => {
      if (decided(s, p2p.keyed)) resolve();
    });
  });
}
