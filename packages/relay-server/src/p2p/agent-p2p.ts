/**
 * Connects the P2P host to a running agent: signaling in as `control`
 * events, answers and peer reports out through `agent.sendControl`; the host
 * is reconfigured on every `ready` (ICE servers may change per session).
 */
import type { Agent } from '../agent';
import type { Capture, ExchangeRecord, ForwardSettings, RequestLogEntry } from '../forward';
import type { HostCrash } from './isolated-peer-host';
import { createPerViewerHosts } from './per-viewer-hosts';
import type { PeerReport, UntrustedEvent } from './peer-host';
import { createSignInDeadlines } from './sign-in-deadlines';

interface AgentP2POptions {
  agent: Agent;
  /** The host process forwards P2P streams itself. */
  forward: ForwardSettings;
  onRequest?(entry: RequestLogEntry): void;
  /** Shared by the P2P host's claims and the relay forwarder's (forward/exchange-record.ts). */
  exchanges?: ExchangeRecord;
  /** The host process taps its forwarder and sends each capture here. */
  capture?: { bodyLimitBytes: number; onCapture(capture: Capture): void };
  /** For the CLI (viewers and their transport). */
  onPeer?(report: PeerReport): void;
  /** Every few seconds (the terminal view). */
  onRtt?(viewerId: string, rttMs: number): void;
  onHostCrash?(crash: HostCrash): void;
  /** The tunnel server is on loopback, so its viewers are on this machine. */
  acceptLoopbackCandidates?: boolean;
  /** `--private`: answer only viewers that hold the link key. */
  requireLinkKey?: boolean;
  onUntrusted?(event: UntrustedEvent): void;
}

export type AgentP2P = ReturnType<typeof attachP2P>;

/** Signaling viewers remembered with their visitor id, oldest forgotten first: 8× DEFAULT_MAX_PEERS covers every open channel's. */
const MAX_TRACKED_PEERS = 256;
/** The server's MAX_REFUSED_VIEWER_IDS. */
const MAX_REFUSED_VISITORS = 10_000;

export function attachP2P(options: AgentP2POptions) {
  const { agent } = options;
  let host: ReturnType<typeof createPerViewerHosts> | undefined;

  agent.on('ready', (e) => {
    if (!e.p2pSettings.enabled) {
      host?.close();
      host = undefined;
      return;
    }
    const trust = { linkKey: e.linkKey, sessionId: e.sessionId, ...(options.requireLinkKey ? { required: true } : {}) };
    // A relay reconnect keeps open data channels; new peers get the new ICE servers (and session id).
    if (host) {
      host.setTrust(trust);
      return host.setIceServers(e.p2pSettings.iceServers);
    }
    host = createPerViewerHosts({
      init: {
        forward: options.forward,
        iceServers: e.p2pSettings.iceServers,
        // The viewer gives up at timeoutMs; the host waits a little longer so a late success is not torn down.
        connectTimeoutMs: Math.max(5_000, e.p2pSettings.timeoutMs * 2),
        ...(options.acceptLoopbackCandidates !== undefined ? { acceptLoopbackCandidates: options.acceptLoopbackCandidates } : {}),
        ...(options.capture ? { captureBodyLimitBytes: options.capture.bodyLimitBytes } : {}),
        trust,
      },
      onUntrusted: options.onUntrusted,
      sendSignal: (viewerId, message) => void agent.sendControl({ type: 'signal', viewerId, message }),
      report: (r) => {
        // Verification is the agent's and the viewer's business, the host's pid the agent's: neither is the server's.
        const { verified: _verified, hostPid: _hostPid, ...toServer } = r;
        agent.sendControl({ type: 'peer-report', ...toServer });
        // The developer sees the visitor id, as on the relay; viewerId stays the channel's.
        const viewer = visitorOf.get(r.viewerId);
        options.onPeer?.(viewer !== undefined ? { ...r, viewer } : r);
      },
      onRtt: (viewerId, rttMs) => options.onRtt?.(visitorOf.get(viewerId) ?? viewerId, rttMs),
      onRequest: options.onRequest,
      exchanges: options.exchanges,
      // Only with options.capture does the host capture. The inspector names a P2P request's viewer by its visitor id when the server told it.
      onCapture: (c) => {
        const verified = c.viewer !== undefined && host?.peers().some((p) => p.viewerId === c.viewer && p.verified) === true;
        const named = c.viewer !== undefined && visitorOf.has(c.viewer) ? { ...c, viewer: visitorOf.get(c.viewer)! } : c;
        options.capture?.onCapture(verified ? { ...named, verified: true } : named);
      },
      onCrash: options.onHostCrash,
    });
  });

  /** Signaling viewer id → visitor id (sessions with a viewer gate), and refused visitors. */
  const visitorOf = new Map<string, string>();
  const refused = new Set<string>();
  // A sign-in ended: its channels end too; signed in again, it offers again.
  const signInDeadlines = createSignInDeadlines((visitorId) => {
    for (const [viewerId, v] of visitorOf) if (v === visitorId) host?.closePeer(viewerId, 'viewer sign-in ended');
  });

  agent.on('control', (message) => {
    if (message.type === 'signal' && message.visitorId !== undefined) {
      visitorOf.delete(message.viewerId);
      visitorOf.set(message.viewerId, message.visitorId);
      if (visitorOf.size > MAX_TRACKED_PEERS) visitorOf.delete(visitorOf.keys().next().value as string);
      // An offer that crossed the refusal is not answered.
      if (refused.has(message.visitorId))
        return void agent.sendControl({
          type: 'signal',
          viewerId: message.viewerId,
          message: { type: 'error', code: 'ERR_VIEWER_REFUSED', message: 'the developer refused this viewer' },
        });
    }
    if (message.type === 'viewer' && message.signInEndsInMs !== undefined) return signInDeadlines.set(message.id, message.signInEndsInMs);
    if (!host) return;
    // Fresh TURN credentials, for the peers opened from now on.
    if (message.type === 'ice-servers') return host.setIceServers(message.iceServers);
    if (message.type === 'signal') host.handleSignal(message.viewerId, message.message);
    // The visitor is kept after its signaling closed: its data channel may outlive it.
    else if (message.type === 'viewer-left') host.viewerLeft(message.viewerId);
  });

  return {
    /** A request was forwarded (relay or P2P): the next spare host process waits for a quiet moment. */
    requestSeen() {
      host?.busy();
    },
    /** Closes the peers of one visitor id and refuses its later offers until allowVisitor (the developer admitted it). */
    closeVisitor(visitorId: string, reason: string) {
      refused.add(visitorId);
      if (refused.size > MAX_REFUSED_VISITORS) refused.delete(refused.values().next().value as string);
      for (const [viewerId, v] of visitorOf) if (v === visitorId) host?.closePeer(viewerId, reason);
    },
    allowVisitor(visitorId: string) {
      refused.delete(visitorId);
    },
    close() {
      signInDeadlines.close();
      host?.close();
      host = undefined;
    },
  };
}
