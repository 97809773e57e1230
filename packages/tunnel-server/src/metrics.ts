/**
 * Prometheus metrics, served at /metrics on the apex host. One registry per server instance (not prom-client's global
 * one), so several servers can run in one process (tests).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** `sessionStats`: the current session counts, read at scrape time. */
export function createMetrics(options: { sessionStats: () => { live: number; grace: number } }) {
  const registry = new Registry();
  /** `labelNames` types the labels its inc() takes. */
  const counter = <T extends string = string>(name: string, help: string, labelNames: readonly T[] = []) =>
    new Counter<T>({ name, help, labelNames, registers: [registry] });
  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers: [registry] });
  new Gauge({
    name: 'wingman_sessions',
    help: 'Sessions held in memory, by state (live: agent connected; grace: waiting for the agent to reconnect)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = options.sessionStats();
      this.set({ state: 'live' }, s.live);
      this.set({ state: 'grace' }, s.grace);
    },
  });
  return {
    registry,
    /** New registrations, not resumes. */
    sessionsCreated: counter('wingman_sessions_created_total', 'Sessions created'),
    sessionsResumed: counter('wingman_sessions_resumed_total', 'Sessions resumed by a reconnecting agent'),
    /** registered, refused (bad token), failed (bad control message or timeout). */
    agentConnections: counter('wingman_agent_connections_total', 'Agent WebSocket connections by outcome', ['outcome']),
    /** http or ws. */
    relayedRequests: counter('wingman_relay_requests_total', 'Requests relayed to agents', ['kind']),
    /** to_agent or to_viewer. */
    relayedBytes: counter('wingman_relay_bytes_total', 'Body and WebSocket message bytes relayed', ['direction']),
    /** Handed to a handler (signaling, relay, agents): `1.1` (Upgrade) or `2` (extended CONNECT). */
    webSocketUpgrades: counter('wingman_websocket_upgrades_total', 'WebSocket upgrades handed to a handler, by HTTP version (2: extended CONNECT, RFC 8441)', [
      'http',
    ]),
    /** The log line names the network (relay/viewer-streams.ts). */
    viewerStreamsCut: counter(
      'wingman_viewer_streams_cut_total',
      'Viewer streams of a full session cut for a viewer holding fewer (the newest of the network holding the most)',
    ),
    /** P2P and signaling (signaling/signaling-hub.ts). */
    p2p: {
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
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
export type P2PMetrics = Metrics['p2p'];
