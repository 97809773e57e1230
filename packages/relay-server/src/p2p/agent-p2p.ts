/**
 * Connects the P2P host to a running agent: signaling arrives as `control`
 * events (`signal` envelopes, `viewer-left`), answers and peer reports leave
 * through `agent.sendControl`. The host is (re)configured on every `ready`
 * from the server's `registered.p2p` (ICE servers may change per session).
 */
import type { Agent } from '../agent';
import type { Forwarder } from '../forward';
import { createPeerHost, type PeerHost, type PeerReport } from './peer-host';

export interface AgentP2POptions {
  agent: Agent;
  forwarder: Forwarder;
  /** Peer lifecycle, for the CLI (viewers and their transport). */
  onPeer?(report: PeerReport): void;
  /** Cap on concurrent peers. */
  maxPeers?: number;
  /** Answer the raw benchmark channel too (WINGMAN_BENCH_RAW=1). */
  rawBench?: boolean;
}

export interface AgentP2P {
  host(): PeerHost | undefined;
  close(): void;
}

export function attachP2P(options: AgentP2POptions): AgentP2P {
  const { agent, forwarder } = options;
  let host: PeerHost | undefined;

  agent.on('ready', (e) => {
    host?.close();
    host = undefined;
    if (!e.p2pSettings.enabled) return;
    host = createPeerHost({
      handleStream: (stream, transport) => forwarder.handleStream(stream, transport),
      sendSignal: (viewerId, message) => void agent.sendControl({ type: 'signal', viewerId, message }),
      report: (r) => {
        agent.sendControl({ type: 'peer-report', ...r });
        options.onPeer?.(r);
      },
      iceServers: e.p2pSettings.iceServers,
      // The viewer gives up at timeoutMs and stays on the relay; the host waits a little longer so a late success is not torn down.
      connectTimeoutMs: Math.max(5_000, e.p2pSettings.timeoutMs * 2),
      ...(options.maxPeers !== undefined ? { maxPeers: options.maxPeers } : {}),
      ...(options.rawBench ? { rawBench: true } : {}),
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
