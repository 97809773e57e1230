/** P2P and signaling metrics (Prometheus, prom-client), registered on the server's registry. */
import type { Registry } from 'prom-client';
import { counterOn, histogramOn } from '../metrics';

export function createP2PMetrics(registry: Registry) {
  const counter = counterOn(registry);
  const histogram = histogramOn(registry);
  return {
    attempts: counter('wingman_p2p_attempts_total', 'P2P offers forwarded to agents'),
    successes: counter('wingman_p2p_successes_total', 'P2P data channels opened (agent reports)'),
    failures: counter('wingman_p2p_failures_total', 'P2P attempts that failed, by reason', ['reason']),
    fallbacks: counter('wingman_p2p_fallbacks_total', 'Viewers that fell back to the relay after a P2P failure'),
    connectSeconds: histogram('wingman_p2p_connect_seconds', 'Offer to open data channel, seconds', [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30]),
    rttSeconds: histogram(
      'wingman_p2p_rtt_seconds',
      'Protocol PING round trip over data channels, seconds',
      [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    ),
    signalingMessages: counter('wingman_signaling_messages_total', 'Signaling messages forwarded', ['direction']),
    /** Signaling sockets or messages refused, by code. */
    signalingRejected: counter('wingman_signaling_rejected_total', 'Signaling messages rejected, by error code', ['code']),
    /** Push-out, not refusals. */
    signalingCut: counter(
      'wingman_signaling_cut_total',
      'Signaling sockets of a full session cut for a viewer holding fewer (the newest of the network holding the most)',
    ),
    /** docs/architecture.md §Scale: a P2P session costs the server signaling only. */
    signalingBytes: counter('wingman_signaling_bytes_total', 'Payload bytes on viewer signaling WebSockets', ['direction']),
    signalingBytesPerViewer: histogram(
      'wingman_signaling_bytes_per_viewer',
      'Signaling payload bytes (both directions) of one viewer socket, at its close',
      [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
    ),
  };
}

export type P2PMetrics = ReturnType<typeof createP2PMetrics>;
