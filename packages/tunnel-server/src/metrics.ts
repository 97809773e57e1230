/**
 * Prometheus metrics, served at /metrics on the apex host. One registry per server instance (not prom-client's global
 * one), so several servers can run in one process (tests).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A counter registered on `registry`; `labelNames` types the labels its inc() takes. */
export function counterOn(registry: Registry) {
  return <T extends string = string>(name: string, help: string, labelNames: readonly T[] = []) =>
    new Counter<T>({ name, help, labelNames, registers: [registry] });
}

/** A histogram registered on `registry`, without labels. */
export function histogramOn(registry: Registry) {
  return (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers: [registry] });
}

/** `sessionStats`: the current session counts, read at scrape time. */
export function createMetrics(options: { sessionStats: () => { live: number; grace: number } }) {
  const registry = new Registry();
  const counter = counterOn(registry);
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
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
