/**
 * createTunnelServer(): wires config, sessions, relay and HTTP routing onto
 * one Node HTTP server, listens, and returns its address and a close().
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CLIENT_PATH, createBrowserAssets, isBootstrapNavigation, serveShell, SHIM_PATH, SW_PATH, WS_TICKET_PATH } from '@wingman/browser-client';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost, resolveConfig, usesDefaultToken, type TunnelServerConfig, type TunnelServerOptions } from './config';
import { createViewerAccessGate } from './access/viewer-access';
import { createClusterNode, type ClusterNode } from './cluster/cluster-node';
import { createNodeForwarder } from './cluster/node-forward';
import { createRedisSessionDirectory } from './cluster/session-directory';
import { createApexApp } from './http/apex-app';
import { createHostRouter } from './http/host-route';
import { resolvePublicAddress } from './http/public-address';
import { createViewerAddresses } from './http/viewer-address';
import { createReservedRoutes, type ReservedRequestHandler, type ReservedRoutesOptions } from './http/reserved-routes';
import type { Session } from './sessions/registry';
import { createRouter, type Router } from './http/router';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { createWsRelay } from './relay/ws-relay';
import { createWsTicketHandler } from './relay/ws-ticket-endpoint';
import { createWsTicketStore } from './relay/ws-tickets';
import { createAgentEndpoint } from './sessions/agent-endpoint';
import { createSessionRegistry } from './sessions/registry';
import { createTokenCheck } from './sessions/token-check';
import { SIGNAL_PATH } from '@wingman/protocol';
import { createP2PMetrics } from './signaling/p2p-metrics';
import { createSessionInfoHandler, createSignalUpgradeHandler, SESSION_INFO_PATH, signalingSession } from './signaling/signal-endpoint';
import { createSignalingHub } from './signaling/signaling-hub';

/**
 * Idle keep-alive time of viewer connections, ms. Above the 60 s idle timeout
 * of common reverse proxies (nginx, AWS ALB), so the proxy closes first and
 * never reuses a socket this server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** HMAC-SHA256 key of the viewer access cookie: 256 bits, the hash's own size (RFC 2104 §3). */
export const ACCESS_KEY_BYTES = 32;

export interface CreateTunnelServerOptions extends TunnelServerOptions {
  /** A pino logger to use instead of one built from `logLevel`. */
  logger?: Logger;
  /** Handlers for Wingman's reserved paths on session hosts (later issues: bundle, signaling). */
  reserved?: ReservedRoutesOptions;
}

export interface TunnelServer {
  /** Public URL of the server (what agents pass as --server), e.g. `http://localhost:8080`. */
  readonly url: string;
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** The validated configuration in force. */
  readonly config: TunnelServerConfig;
  /** Public URL of a session: `http://<id>.localhost:8080/`. */
  sessionUrl(sessionId: string): string;
  /** Disconnects agents (GOAWAY), cuts viewers, stops listening. Idempotent. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function createTunnelServer(options: CreateTunnelServerOptions = {}): Promise<TunnelServer> {
  const { logger: givenLogger, reserved: reservedOptions, ...rest } = options;
  const config = resolveConfig(rest);
  const logger = givenLogger ?? createLogger(config.logLevel);
  if (usesDefaultToken(config) && !isLoopbackHost(config.host)) {
    logger.warn({ host: config.host }, 'the embedded default agent token is accepted on a non-loopback address: anyone can register agents; set WINGMAN_TOKENS');
  }
  // Set after listen() when REDIS_URL makes this server a node of a cluster (the node URL needs the port).
  let cluster: ClusterNode | undefined;
  const registry = createSessionRegistry({
    graceMs: config.sessionGraceMs,
    onExpire: (session) => {
      logger.info({ sessionId: session.id }, registry.ended(session.id) ? 'session ended at its expiry (--expires)' : 'session expired (no agent within the grace period)');
      cluster?.expired(session);
    },
    onAttach: (session) => cluster?.attached(session),
    onDetach: (session) => cluster?.detached(session),
  });
  const metrics = createMetrics({ sessionStats: () => registry.stats() });
  const hub = createSignalingHub({ metrics: createP2PMetrics(metrics.registry) });
  const signal = createSignalUpgradeHandler({ config, hub });
  // The browser client: its bundles under the reserved prefix, and its shell
  // for browsers' top-level navigations on P2P sessions (docs/browser-client.md).
  const assets = createBrowserAssets();
  const serveAsset: ReservedRequestHandler = (req, res) => {
    if (!assets.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not built: run npm run build\n');
  };
  const bootstrap = (req: IncomingMessage, res: ServerResponse, session: Session, setCookie: string | undefined): boolean => {
    if (!signalingSession(config, session).p2pEnabled() || !isBootstrapNavigation(req)) return false;
    if (setCookie) res.setHeader('set-cookie', setCookie);
    serveShell(res, { sessionId: session.id, p2p: true });
    return true;
  };
  // The SW's cookies for the shim's relayed WebSockets (relay/ws-tickets.ts).
  const wsTickets = createWsTicketStore();
  const reserved: ReservedRoutesOptions = {
    requests: new Map([
      [SESSION_INFO_PATH, createSessionInfoHandler({ config, hub })],
      [CLIENT_PATH, serveAsset],
      [SW_PATH, serveAsset],
      [SHIM_PATH, serveAsset],
      [WS_TICKET_PATH, createWsTicketHandler(wsTickets)],
      ...(reservedOptions?.requests ?? []),
    ]),
    upgrades: new Map([[SIGNAL_PATH, signal.handler], ...(reservedOptions?.upgrades ?? [])]),
  };

  // Routing needs the real port (default domain localhost:<port>), known after listen().
  let router: Router | undefined;
  const server = createServer({ noDelay: true }, (req, res) => {
    if (router) return router.handleRequest(req, res);
    res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('upgrade', (req, socket, head) => {
    if (router) return router.handleUpgrade(req, socket, head);
    socket.destroy();
  });
  // clientError keeps Node's default handler: 431 for oversized headers, 400 for malformed requests.

  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const address = resolvePublicAddress(config, port);

  // Access cookies of password-protected sessions: HMAC under this key. One
  // node: random, living as long as the process (and its sessions). A cluster:
  // shared through Redis, so a cookie earned on one node is valid on every
  // node a session may move to.
  let accessKey: Uint8Array = randomBytes(ACCESS_KEY_BYTES);
  // Signs the viewer address a node vouches for when it forwards to another (http/viewer-address.ts).
  let hopKey: Uint8Array | undefined;
  if (config.redisUrl) {
    const node = config.nodeUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const directory = createRedisSessionDirectory({ redisUrl: config.redisUrl, node, onError: (err) => logger.warn({ err }, 'session directory (Redis) error') });
    // Ready before the first viewer arrives; a Redis that is down only degrades routing (docs/operations.md).
    await directory.ready().catch((err: unknown) => logger.warn({ err, redisUrl: config.redisUrl }, 'session directory: Redis does not answer yet; serving local sessions only until it does'));
    accessKey = await directory.sharedSecret('access-cookie', accessKey).catch((err: unknown) => {
      logger.warn({ err }, 'session directory: no shared access-cookie key; this node signs its own (viewers of a password-protected session that moves here enter the password again)');
      return accessKey;
    });
    hopKey = await directory.sharedSecret('cluster-hop', randomBytes(ACCESS_KEY_BYTES)).catch((err: unknown) => {
      logger.warn({ err }, 'session directory: no shared hop key; viewers forwarded from other nodes are counted by the forwarding node\'s address');
      return undefined;
    });
    cluster = createClusterNode({
      directory,
      registry,
      logger,
      onTakenOver: (session) => {
        session.agent?.close('ERR_GOING_AWAY', 'session taken over by another node');
        registry.evict(session);
      },
    });
    logger.info({ node }, 'cluster node: sessions shared through Redis');
  }
  const accessGate = createViewerAccessGate({ key: accessKey, secureCookie: address.scheme === 'https' });
  const viewerAddresses = createViewerAddresses({ trustProxy: config.trustProxy, ...(hopKey ? { hopKey } : {}) });
  const nodeForwarder = config.redisUrl ? createNodeForwarder(logger, viewerAddresses.hopValue) : undefined;
  const agentEndpoint = createAgentEndpoint({
    accessGate,
    ...(cluster ? { cluster } : {}),
    registry,
    tokenCheck: createTokenCheck(config.tokens),
    config,
    logger,
    metrics,
    sessionUrl: address.sessionUrl,
    hub,
  });
  const wsRelay = createWsRelay({ forwardedProto: address.scheme, metrics, logger, tickets: wsTickets });
  router = createRouter({
    hostRouter: createHostRouter(address.domain),
    registry,
    apexApp: createApexApp({ registry, metrics, logger, publicUrl: address.publicUrl }),
    reserved: createReservedRoutes(reserved),
    agentEndpoint,
    httpRelay: { forwardedProto: address.scheme, metrics, logger },
    wsRelay,
    logger,
    bootstrap,
    accessGate,
    viewerAddress: viewerAddresses.of,
    ...(cluster && nodeForwarder ? { cluster: { node: cluster, forward: nodeForwarder } } : {}),
  });
  logger.info({ host: config.host, port, url: address.publicUrl, domain: address.domain }, 'tunnel server listening');

  let closing: Promise<void> | undefined;
  const close = async () => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    // Agents first: their GOAWAY fails in-flight streams, so viewers get answers.
    await agentEndpoint.close();
    wsRelay.close();
    wsTickets.clear();
    hub.close();
    signal.close();
    await cluster?.close();
    nodeForwarder?.close();
    registry.clear();
    server.closeAllConnections();
    await stopped;
    logger.info('tunnel server closed');
  };

  return {
    url: address.publicUrl,
    port,
    config,
    sessionUrl: address.sessionUrl,
    close: () => (closing ??= close()),
  };
}
