/**
 * Connects the P2P host to a running agent: signaling arrives as `control`
 * events (`signal` envelopes, `viewer-left`), answers and peer reports leave
 * through `agent.sendControl`. The host is (re)configured on every `ready`
 * from the server's `registered.p2p` (ICE servers may change per session).
 * The peers live in a child process (isolated-peer-host.ts), so a native
 * crash in @roamhq/wrtc never takes the agent and its relay session down.
 */
import type { HeaderRules } from '../forward/header-rules';
import type { Agent } from '../agent';
import type { Capture, ExchangeRecord, HostHeaderMode, RequestLogEntry, RouteSpec, Target } from '../forward';
import { createIsolatedPeerHost, type HostCrash } from './isolated-peer-host';
import type { PeerHost, PeerReport, UntrustedEvent } from './peer-host';
import { createSignInDeadlines } from './sign-in-deadlines';

interface AgentP2POptions {
  agent: Agent;
  /** The local app, as the agent's forwarder has it: the host process forwards P2P streams itself. */
  forward: {
    target: Target;
    routes?: readonly RouteSpec[];
    hostHeader: HostHeaderMode;
    timeoutMs?: number;
    wsMaxMessageBytes?: number;
    headerRules?: HeaderRules;
  };
  /** One line per P2P request (the host process's forwarder). */
  onRequest?(entry: RequestLogEntry): void;
  /** The agent's record of exchanges that reached the app, which the P2P host's claims and the relay forwarder's share (forward/exchange-record.ts). */
  exchanges?: ExchangeRecord;
  /** Inspector capture of P2P exchanges: the host process taps its forwarder and sends each capture here. */
  capture?: { bodyLimitBytes: number; onCapture(capture: Capture): void };
  /** Peer lifecycle, for the CLI (viewers and their transport). */
  onPeer?(report: PeerReport): void;
  /** A connected viewer's round-trip time, every few seconds (for the terminal view). */
  onRtt?(viewerId: string, rttMs: number): void;
  /** The P2P host process crashed; it restarts after `restartInMs`. */
  onHostCrash?(crash: HostCrash): void;
  /** Cap on concurrent peers. */
  maxPeers?: number;
  /** Accept viewers' loopback ICE candidates: the tunnel server is on loopback, so its viewers are on this machine. */
  acceptLoopbackCandidates?: boolean;
  /** Answer only viewers that hold the link key (`--private`). */
  requireLinkKey?: boolean;
  /** A viewer's signaling message or channel refused by a link-key check. */
  onUntrusted?(event: UntrustedEvent): void;
}

export interface AgentP2P {
  host(): PeerHost | undefined;
  /** Closes the peer connections of one viewer identity (a visitor id the server named in its signaling), and refuses its later offers until `allow`. */
  closeVisitor(visitorId: string, reason: string): void;
  /** Lets a visitor closed by closeVisitor offer again (the developer admitted it). */
  allowVisitor(visitorId: string): void;
  close(): void;
}

/** Signaling viewers remembered with their visitor id, oldest forgotten first: 8× DEFAULT_MAX_PEERS, so every open channel's viewer is among them. */
const MAX_TRACKED_PEERS = 256;
/** Refused visitors whose offers the agent turns away (the server's MAX_REFUSED_VIEWER_IDS). */
const MAX_REFUSED_VISITORS = 10_000;

export function attachP2P(options: AgentP2POptions): AgentP2P {
  const { agent } = options;
  let host: PeerHost | undefined;

  agent.on('ready', (e) => {
    if (!e.p2pSettings.enabled) {
      host?.close();
      host = undefined;
      return;
    }
    // The session's link key: viewers that hold it get authenticated signaling and a verified channel.
    const trust = { linkKey: e.linkKey, sessionId: e.sessionId, ...(options.requireLinkKey ? { required: true } : {}) };
    // A relay reconnect (same session) keeps the open data channels: they do
    // not depend on the agent's WebSocket. New peers get the new ICE servers (and a new session's id).
    if (host) {
      host.setTrust(trust);
      return host.setIceServers(e.p2pSettings.iceServers);
    }
    host = createIsolatedPeerHost({
      init: {
        target: options.forward.target,
        ...(options.forward.routes !== undefined ? { routes: [...options.forward.routes] } : {}),
        hostHeader: options.forward.hostHeader,
        ...(options.forward.headerRules !== undefined ? { headerRules: options.forward.headerRules } : {}),
        ...(options.forward.timeoutMs !== undefined ? { timeoutMs: options.forward.timeoutMs } : {}),
        ...(options.forward.wsMaxMessageBytes !== undefined ? { wsMaxMessageBytes: options.forward.wsMaxMessageBytes } : {}),
        iceServers: e.p2pSettings.iceServers,
        // The viewer gives up at timeoutMs and stays on the relay; the host waits a little longer so a late success is not torn down.
        connectTimeoutMs: Math.max(5_000, e.p2pSettings.timeoutMs * 2),
        ...(options.maxPeers !== undefined ? { maxPeers: options.maxPeers } : {}),
        ...(options.acceptLoopbackCandidates !== undefined ? { acceptLoopbackCandidates: options.acceptLoopbackCandidates } : {}),
        ...(options.capture ? { captureBodyLimitBytes: options.capture.bodyLimitBytes } : {}),
        trust,
      },
      ...(options.onUntrusted ? { onUntrusted: options.onUntrusted } : {}),
      sendSignal: (viewerId, message) => void agent.sendControl({ type: 'signal', viewerId, message }),
      report: (r) => {
        // Whether a channel is verified is the agent's and the viewer's business, not the server's.
        const { verified: _verified, ...toServer } = r;
        agent.sendControl({ type: 'peer-report', ...toServer });
        // The developer sees the viewer's one id (its visitor id), as on the relay and in the inspector; viewerId stays the channel's.
        const viewer = visitorOf.get(r.viewerId);
        options.onPeer?.(viewer !== undefined ? { ...r, viewer } : r);
      },
      ...(options.onRtt ? { onRtt: (viewerId: string, rttMs: number) => options.onRtt!(visitorOr(viewerId), rttMs) } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.exchanges ? { exchanges: options.exchanges } : {}),
      // The inspector names a P2P request's viewer by its visitor id when the server told it (sessions with viewer identity).
      ...(options.capture
        ? {
            onCapture: (c: Capture) => {
              // Whether its channel is verified: the host's report of that signaling viewer's channel.
              const verified = c.viewer !== undefined && host?.peers().some((p) => p.viewerId === c.viewer && p.verified) === true;
              const named = c.viewer !== undefined && visitorOf.has(c.viewer) ? { ...c, viewer: visitorOf.get(c.viewer)! } : c;
              options.capture!.onCapture(verified ? { ...named, verified: true } : named);
            },
          }
        : {}),
      ...(options.onHostCrash ? { onCrash: options.onHostCrash } : {}),
    });
  });

  /** Signaling viewer id → visitor id (sessions with a viewer gate), and the visitors the developer refused. */
  const visitorOf = new Map<string, string>();
  const visitorOr = (viewerId: string) => visitorOf.get(viewerId) ?? viewerId;
  const refused = new Set<string>();
  // A viewer's sign-in ended: its channels end too (the server refuses its signaling); signed in again, it offers again.
  const signInDeadlines = createSignInDeadlines((visitorId) => {
    for (const [viewerId, v] of visitorOf) if (v === visitorId) host?.closePeer(viewerId, 'viewer sign-in ended');
  });

  agent.on('control', (message) => {
    if (message.type === 'signal' && message.visitorId !== undefined) {
      visitorOf.delete(message.viewerId);
      visitorOf.set(message.viewerId, message.visitorId);
      if (visitorOf.size > MAX_TRACKED_PEERS) visitorOf.delete(visitorOf.keys().next().value as string);
      // The server closes a refused viewer's signaling; an offer that crossed the refusal is not answered.
      if (refused.has(message.visitorId))
        return void agent.sendControl({
          type: 'signal',
          viewerId: message.viewerId,
          message: { type: 'error', code: 'ERR_VIEWER_REFUSED', message: 'the developer refused this viewer' },
        });
    }
    if (message.type === 'viewer' && message.signInEndsInMs !== undefined) return signInDeadlines.set(message.id, message.signInEndsInMs);
    if (!host) return;
    // Fresh TURN credentials (the server's expire): for the peers opened from now on.
    if (message.type === 'ice-servers') return host.setIceServers(message.iceServers);
    if (message.type === 'signal') host.handleSignal(message.viewerId, message.message);
    // The visitor of a signaling viewer is kept after its socket closed: its data channel may outlive it.
    else if (message.type === 'viewer-left') host.viewerLeft(message.viewerId);
  });

  return {
    host: () => host,
    closeVisitor(visitorId, reason) {
      refused.add(visitorId);
      if (refused.size > MAX_REFUSED_VISITORS) refused.delete(refused.values().next().value as string);
      for (const [viewerId, v] of visitorOf) if (v === visitorId) host?.closePeer(viewerId, reason);
    },
    allowVisitor(visitorId) {
      refused.delete(visitorId);
    },
    close() {
      signInDeadlines.close();
      host?.close();
      host = undefined;
    },
  };
}
