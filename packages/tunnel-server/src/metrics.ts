/**
 * Prometheus metrics, served at /metrics on the apex host. One registry per server instance (not prom-client's global
 * one), so several servers can run in one process (tests).
 */
import { Counter, Gauge, Registry } from 'prom-client';

interface MetricsOptions {
  /** Current session counts, read at scrape time. */
  sessionStats: () => { live: number; grace: number };
}

export interface Metrics {
  readonly registry: Registry;
  /** Sessions created (new registrations, not resumes). */
  readonly sessionsCreated: Counter<string>;
  /** Sessions resumed by a reconnecting agent within the grace period. */
  readonly sessionsResumed: Counter<string>;
  /** Agent WebSocket connections by outcome: registered, refused (bad token), failed (bad control message or timeout). */
  readonly agentConnections: Counter<'outcome'>;
  /** Requests relayed to agents by kind: http or ws. */
  readonly relayedRequests: Counter<'kind'>;
  /** Body and WebSocket message bytes relayed, by direction: to_agent or to_viewer. */
  readonly relayedBytes: Counter<'direction'>;
  /** WebSocket upgrades handed to a handler (signaling, relay, agents), by HTTP version: `1.1` (Upgrade) or `2` (extended CONNECT). */
  readonly webSocketUpgrades: Counter<'http'>;
  /** Viewer streams cut for a viewer holding fewer (the newest of the network holding the most; relay/viewer-streams.ts). The log line names the network. */
  readonly viewerStreamsCut: Counter<string>;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
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
    sessionsCreated: new Counter({ name: 'wingman_sessions_created_total', help: 'Sessions created', registers: [registry] }),
    sessionsResumed: new Counter({ name: 'wingman_sessions_resumed_total', help: 'Sessions resumed by a reconnecting agent', registers: [registry] }),
    agentConnections: new Counter({
      name: 'wingman_agent_connections_total',
      help: 'Agent WebSocket connections by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    relayedRequests: new Counter({ name: 'wingman_relay_requests_total', help: 'Requests relayed to agents', labelNames: ['kind'], registers: [registry] }),
    relayedBytes: new Counter({
      name: 'wingman_relay_bytes_total',
      help: 'Body and WebSocket message bytes relayed',
      labelNames: ['direction'],
      registers: [registry],
    }),
    webSocketUpgrades: new Counter({
      name: 'wingman_websocket_upgrades_total',
      help: 'WebSocket upgrades handed to a handler, by HTTP version (2: extended CONNECT, RFC 8441)',
      labelNames: ['http'],
      registers: [registry],
    }),
    viewerStreamsCut: new Counter({
      name: 'wingman_viewer_streams_cut_total',
      help: 'Viewer streams of a full session cut for a viewer holding fewer (the newest of the network holding the most)',
      registers: [registry],
    }),
  };
}
