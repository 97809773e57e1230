/** P2P and signaling metrics (Prometheus, prom-client), registered on the server's registry. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface P2PMetrics {
  attempts: Counter;
  successes: Counter;
  failures: Counter<'reason'>;
  fallbacks: Counter;
  connectSeconds: Histogram;
  rttSeconds: Histogram;
  signalingMessages: Counter<'direction'>;
  /** Signaling sockets or messages refused, by code. */
  signalingRejected: Counter<'code'>;
  /** Signaling sockets of a full session cut for a viewer holding fewer (push-out); not refusals. */
  signalingCut: Counter;
  /** Payload bytes on viewers' signaling WebSockets (docs/architecture.md §Scale: a P2P session costs the server signaling only). */
  signalingBytes: Counter<'direction'>;
  /** Signaling bytes (both directions) of one viewer socket, observed when it closes. */
  signalingBytesPerViewer: Histogram;
}

export function createP2PMetrics(registry: Registry): P2PMetrics {
  const registers = [registry];
  return {
    attempts: new Counter({ name: 'wingman_p2p_attempts_total', help: 'P2P offers forwarded to agents', registers }),
    successes: new Counter({ name: 'wingman_p2p_successes_total', help: 'P2P data channels opened (agent reports)', registers }),
    failures: new Counter({ name: 'wingman_p2p_failures_total', help: 'P2P attempts that failed, by reason', labelNames: ['reason'], registers }),
    fallbacks: new Counter({ name: 'wingman_p2p_fallbacks_total', help: 'Viewers that fell back to the relay after a P2P failure', registers }),
    connectSeconds: new Histogram({
      name: 'wingman_p2p_connect_seconds',
      help: 'Offer to open data channel, seconds',
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    rttSeconds: new Histogram({
      name: 'wingman_p2p_rtt_seconds',
      help: 'Protocol PING round trip over data channels, seconds',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    signalingMessages: new Counter({ name: 'wingman_signaling_messages_total', help: 'Signaling messages forwarded', labelNames: ['direction'], registers }),
    signalingRejected: new Counter({
      name: 'wingman_signaling_rejected_total',
      help: 'Signaling messages rejected, by error code',
      labelNames: ['code'],
      registers,
    }),
    signalingCut: new Counter({
      name: 'wingman_signaling_cut_total',
      help: 'Signaling sockets of a full session cut for a viewer holding fewer (the newest of the network holding the most)',
      registers,
    }),
    signalingBytes: new Counter({
      name: 'wingman_signaling_bytes_total',
      help: 'Payload bytes on viewer signaling WebSockets',
      labelNames: ['direction'],
      registers,
    }),
    signalingBytesPerViewer: new Histogram({
      name: 'wingman_signaling_bytes_per_viewer',
      help: 'Signaling payload bytes (both directions) of one viewer socket, at its close',
      buckets: [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072],
      registers,
    }),
  };
}
