/**
 * Connects the P2P host to a running agent: signaling arrives as `control`
 * events (`signal` envelopes, `viewer-left`), answers and peer reports leave
 * through `agent.sendControl`. The host is (re)configured on every `ready`
 * from the server's `registered.p2p` (ICE servers may change per session).
 * The peers live in a child process (isolated-peer-host.ts), so a native
 * crash in @roamhq/wrtc never takes the agent and its relay session down.
 */
import type { Agent } from '../agent';
import type { Capture, HostHeaderMode, RequestLogEntry, Target } from '../forward';
import { createIsolatedPeerHost, type HostCrash } from './isolated-peer-host';
import type { PeerHost, PeerReport } from './peer-host';

export interface AgentP2POptions {
  agent: Agent;
  /** The local app, as the agent's forwarder has it: the host process forwards P2P streams itself. */
  forward: { target: Target; hostHeader: HostHeaderMode; timeoutMs?: number; wsMaxMessageBytes?: number };
  /** One line per P2P request (the host process's forwarder). */
  onRequest?(entry: RequestLogEntry): void;
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
}

export interface AgentP2P {
  host(): PeerHost | undefined;
  close(): void;
}

export function attachP2P(options: AgentP2POptions): AgentP2P {
  const { agent } = options;
  let host: PeerHost | undefined;

  agent.on('ready', (e) => {
    if (!e.p2pSettings.enabled) {
      host?.close();
      host = undefined;
      return;
    }
    // A relay reconnect (same session) keeps the open data channels: they do
    // not depend on the agent's WebSocket. New peers get the new ICE servers.
    if (host) return host.setIceServers(e.p2pSettings.iceServers);
    host = createIsolatedPeerHost({
      init: {
        target: options.forward.target,
        hostHeader: options.forward.hostHeader,
        ...(options.forward.timeoutMs !== undefined ? { timeoutMs: options.forward.timeoutMs } : {}),
        ...(options.forward.wsMaxMessageBytes !== undefined ? { wsMaxMessageBytes: options.forward.wsMaxMessageBytes } : {}),
        iceServers: e.p2pSettings.iceServers,
        // The viewer gives up at timeoutMs and stays on the relay; the host waits a little longer so a late success is not torn down.
        connectTimeoutMs: Math.max(5_000, e.p2pSettings.timeoutMs * 2),
        ...(options.maxPeers !== undefined ? { maxPeers: options.maxPeers } : {}),
        ...(options.capture ? { captureBodyLimitBytes: options.capture.bodyLimitBytes } : {}),
      },
      sendSignal: (viewerId, message) => void agent.sendControl({ type: 'signal', viewerId, message }),
      report: (r) => {
        agent.sendControl({ type: 'peer-report', ...r });
        options.onPeer?.(r);
      },
      ...(options.onRtt ? { onRtt: options.onRtt } : {}),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
      ...(options.capture ? { onCapture: options.capture.onCapture } : {}),
      ...(options.onHostCrash ? { onCrash: options.onHostCrash } : {}),
    });
  });

  agent.on('control', (message) => {
    if (!host) return;
    if (message.type === 'signal') host.handleSignal(message.viewerId, message.message);
    else if (message.type === 'viewer-left') host.viewerLeft(message.viewerId);
  });

  return {
    host: () => host,
    close() {
      host?.close();
      host = undefined;
    },
  };
}
