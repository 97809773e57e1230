/**
 * One P2P host process per viewer (isolated-peer-host.ts). @roamhq/wrtc can
 * crash the process that sends on a channel its viewer is closing; with a
 * process per viewer that crash ends only the leaving viewer's channel, never
 * another viewer's exchanges. A spare process (spare-host.ts) answers the
 * next offer as fast as one shared host would; a process whose viewer left
 * RETIRE_AFTER_MS ago, alive, becomes that spare. Cost: ~35 MB (PSS) per P2P
 * viewer; docs/architecture.md §Who owns what.
 */
import type { IceServer, ViewerSignal } from '@wingman/protocol';
import { createIsolatedPeerHost, type HostCrash, type IsolatedPeerHost, type IsolatedPeerHostOptions } from './isolated-peer-host';
import { DEFAULT_MAX_PEERS, PEER_CLOSE_GRACE_MS, type LinkTrust, type PeerHost, type PeerReport, type UntrustedEvent } from './peer-host-options';
import { createSpareHost } from './spare-host';

/** A viewer's process ends this long after its peer closed (the peer connection's own close comes PEER_CLOSE_GRACE_MS after the channel's), ms. */
export const RETIRE_AFTER_MS = PEER_CLOSE_GRACE_MS + 1_000;

export function createPerViewerHosts(options: IsolatedPeerHostOptions): PeerHost & { busy(): void } {
  let iceServers: IceServer[] = options.init.iceServers;
  let trust: LinkTrust | undefined = options.init.trust;
  const hosts = new Map<string, IsolatedPeerHost>();
  const retiring = new Map<string, ReturnType<typeof setTimeout>>();
  let untrustedCount = 0;
  let closed = false;

  const forget = (viewerId: string) => {
    hosts.delete(viewerId);
    clearTimeout(retiring.get(viewerId));
    retiring.delete(viewerId);
  };

  /** Its process becomes the spare, or ends, unless the viewer offers again meanwhile. */
  const retireLater = (viewerId: string) => {
    if (retiring.has(viewerId) || !hosts.has(viewerId)) return;
    const timer = setTimeout(() => {
      retiring.delete(viewerId);
      const h = hosts.get(viewerId);
      if (!h || h.peers().length > 0) return;
      hosts.delete(viewerId);
      if (!spare.recycle(h)) h.close();
    }, RETIRE_AFTER_MS);
    timer.unref?.();
    retiring.set(viewerId, timer);
  };

  const make = (): IsolatedPeerHost => {
    const h: IsolatedPeerHost = createIsolatedPeerHost({
      ...options,
      init: { ...options.init, iceServers, ...(trust ? { trust } : {}) },
      report: (r: PeerReport) => {
        options.report?.(r);
        if (r.state !== 'connected') retireLater(r.viewerId);
      },
      onReady: () => spare.ready(),
      // Counted across the processes, as one host would.
      onUntrusted: (e: UntrustedEvent) => options.onUntrusted?.({ ...e, count: ++untrustedCount }),
      onCrash: (crash: HostCrash) => {
        const owners = [...hosts].filter(([, host]) => host === h).map(([viewerId]) => viewerId);
        for (const viewerId of owners) forget(viewerId);
        options.onCrash?.(crash);
        // One that dies serving a viewer is that viewer's; one that dies with none says the next may too (timed from the report on).
        if (owners.length === 0) spare.died(h, crash);
      },
    });
    return h;
  };
  const spare = createSpareHost(make);
  const everyHost = () => new Set([...hosts.values(), ...(spare.current ? [spare.current] : [])]);

  return {
    /** The agent forwarded a request: the next spare waits for a quiet moment (spare-host.ts). */
    busy: () => spare.busy(),
    handleSignal(viewerId: string, message: ViewerSignal) {
      if (closed) return;
      const own = hosts.get(viewerId);
      if (own && !own.ended) {
        clearTimeout(retiring.get(viewerId));
        retiring.delete(viewerId);
        return own.handleSignal(viewerId, message);
      }
      // Candidates and the like without an offer have no peer to go to.
      if (message.type !== 'offer') return;
      if (hosts.size >= DEFAULT_MAX_PEERS) {
        options.sendSignal(viewerId, {
          type: 'error',
          code: 'ERR_TOO_MANY_PEERS',
          message: `this agent serves at most ${DEFAULT_MAX_PEERS} P2P viewers; staying on the relay`,
        });
        return options.report?.({ viewerId, state: 'failed', reason: 'too many peers' });
      }
      const h = spare.take();
      if (!h)
        return options.sendSignal(viewerId, {
          type: 'error',
          code: 'ERR_P2P_UNAVAILABLE',
          message: `the agent's P2P host ${spare.failure}; staying on the relay`,
        });
      hosts.set(viewerId, h);
      h.handleSignal(viewerId, message);
    },
    viewerLeft(viewerId: string) {
      const h = hosts.get(viewerId);
      if (!h) return;
      h.viewerLeft(viewerId);
      // Never connected: nothing of it outlives its signaling.
      if (h.peers().length === 0) retireLater(viewerId);
    },
    closePeer(viewerId: string, reason: string) {
      hosts.get(viewerId)?.closePeer(viewerId, reason);
    },
    peers: () => [...hosts.values()].flatMap((h) => h.peers()),
    setIceServers(servers: IceServer[]) {
      iceServers = servers;
      for (const h of everyHost()) h.setIceServers(servers);
    },
    setTrust(next: LinkTrust | undefined) {
      trust = next;
      for (const h of everyHost()) h.setTrust(next);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const timer of retiring.values()) clearTimeout(timer);
      retiring.clear();
      for (const h of everyHost()) h.close();
      spare.close();
      hosts.clear();
    },
  };
}
