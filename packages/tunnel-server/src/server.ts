/**
 * createTunnelServer(): wires config, sessions, relay and HTTP routing onto
 * one Node HTTP server, listens, and returns its address and a close().
 */
import { createStoppedSessions } from './sessions/stopped-sessions';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { createBrowserAssets, createShellCopyRoute, isBootstrapNavigation, serveDiagnostics, serveShell } from './browser';
import { createOwnServiceWorkerHandler } from './browser/own-service-worker';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolveConfig, usesHttp2, type TunnelServerConfig, type TunnelServerOptions } from './config';
import { publicAddressWarnings, type AddressWarning } from './http/public-address-warnings';
import { loadTlsPair, watchTlsPair, type TlsReloader } from './http/tls-files';
import { createViewerAccessGate } from './access/viewer-access';
import { createViewerGate } from './viewers/viewer-gate';
import { createViewerCookies, type ViewerCookies } from './viewers/viewer-cookie';
import { createClusterNode, type ClusterNode } from './cluster/cluster-node';
import { createKeyRing } from './cluster/key-ring';
import { shareKeys, type SharedKeys } from './cluster/shared-keys';
import { createNodeForwarder } from './cluster/node-forward';
import { createRedisSessionDirectory, type SessionDirectory } from './cluster/session-directory';
import { createApexApp } from './http/apex-app';
import { createTlsPermission } from './http/tls-permission';
import { createHostRouter } from './http/host-route';
import { resolvePublicAddress } from './http/public-address';
import { createViewerAddresses } from './http/viewer-address';
import { createReservedRoutes, pathnameOf, type ReservedRequestHandler, type ReservedRoutesOptions } from './http/reserved-routes';
import { ERR_OVERLOADED, guardConnections } from './http/connection-guard';
import { writeRawText } from './http/raw-response';
import { asHttp1Request, HTTP2_MAX_CONCURRENT_STREAMS, HTTP2_STREAM_WINDOW_BYTES, isHttp2Request, manageHttp2Sessions } from './http/http2-compat';
import { HEALTH_PATH } from './http/apex-app';
import type { Session } from './sessions/registry';
import { createRouter, type Router } from './http/router';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { createWsRelay } from './relay/ws-relay';
import { createBufferBudget } from '@wingman/protocol';
import { createWsTicketHandler } from './relay/ws-ticket-endpoint';
import { createWsTicketStore } from './relay/ws-tickets';
import { createViewerStreamQuota } from './relay/viewer-streams';
import { createAgentEndpoint } from './sessions/agent-endpoint';
import { createSessionRegistry } from './sessions/registry';
import { createSessionIds, deriveKey, loadSessionKey } from './sessions/session-key';
import { createTokenCheck } from './sessions/token-check';
import { createTokenSessions } from './sessions/token-sessions';
import { createPasswordThrottle } from './access/password-throttle';
import {
  CLIENT_PATH,
  DIAGNOSTICS_PATH,
  DIAGNOSTICS_SCRIPT_PATH,
  OWN_SW_PATH,
  SHELL_PATH,
  SHIM_PATH,
  SIGNAL_PATH,
  SW_PATH,
  WS_TICKET_PATH,
} from '@wingman/protocol';
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
  /** Handlers for Wingman's reserved paths on session hosts (bundle, signaling, access, tickets). */
  reserved?: ReservedRoutesOptions;
  /** The process's descriptor limit the connection guard works with (tests); default: RLIMIT_NOFILE from /proc. */
  fdLimit?: number;
}

export interface TunnelServer {
  /** Public URL of the server (what agents pass as --server), e.g. `http://localhost:8080`. */
  readonly url: string;
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** The validated configuration in force. */
  readonly config: TunnelServerConfig;
  /** Configurations whose links cannot work, or work without P2P (the bin prints them). */
  readonly warnings: readonly AddressWarning[];
  /** Public URL of a session: `http://<id>.localhost:8080/`. */
  sessionUrl(sessionId: string): string;
  /** Disconnects agents (GOAWAY), cuts viewers, stops listening. Idempotent. */
  close(): Promise<void>;
}

function loadSessionKeyOrWarn(stateDir: string, logger: Logger): Buffer {
  const loaded = loadSessionKey(stateDir);
  if ('error' in loaded)
    logger.warn({ err: loaded.error, stateDir }, 'cannot keep the session key in the state directory: agents get new URLs when this server restarts');
  return loaded.key;
}

function listen(server: NetServer, port: number, host: string): Promise<void> {
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
  const { logger: givenLogger, reserved: reservedOptions, fdLimit, ...rest } = options;
  const config = resolveConfig(rest);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const tokenSessions = createTokenSessions(config.limits.sessionsPerToken);
  // Set after listen() when REDIS_URL makes this server a node of a cluster (the node URL needs the port).
  let cluster: ClusterNode | undefined;
  /** The cluster's session directory (REDIS_URL), for the TLS permission check. */
  let clusterDirectory: SessionDirectory | undefined;
  let sharedKeys: SharedKeys | undefined;
  // Session ids are bound to resume secrets under a key kept on disk, or
  // derived from the configured cluster secret, so an agent claims its URL
  // back after a restart (sessions/session-key.ts).
  const configured = config.clusterSecret === undefined ? undefined : Buffer.from(config.clusterSecret, 'utf8');
  const sessionKey = configured ? deriveKey(configured, 'session-id') : loadSessionKeyOrWarn(config.stateDir, logger);
  const sessionKeys = createKeyRing(sessionKey);
  const sessionIds = createSessionIds(sessionKeys);
  const stopped = createStoppedSessions();
  const registry = createSessionRegistry({
    sessionIds,
    graceMs: config.sessionGraceMs,
    onExpire: (session) => {
      tokenSessions.remove(session);
      if (!registry.ended(session.id)) stopped.add(session.id);
      logger.info(
        { sessionId: session.id },
        registry.ended(session.id) ? 'session ended at its expiry (--expires)' : 'session expired (no agent within the grace period)',
      );
      cluster?.expired(session);
    },
    onAttach: (session) => {
      stopped.delete(session.id);
      cluster?.attached(session);
    },
    onDetach: (session) => cluster?.detached(session),
  });
  const metrics = createMetrics({ sessionStats: () => registry.stats() });
  // Bytes held for viewers across all their connections (@wingman/protocol's buffer-budget.ts).
  const viewerBuffers = createBufferBudget(config.limits.viewerBufferBudgetBytes);
  const hub = createSignalingHub({ metrics: createP2PMetrics(metrics.registry), maxPerAddress: config.limits.signalingPerViewer });
  // Viewer addresses are resolved once the cluster's hop key is known (after listen); no upgrade arrives before.
  // Viewer cookies need the access key and the scheme, known after listen(); no request arrives before.
  let viewerCookies: ViewerCookies | undefined;
  const viewerGate = createViewerGate({ cookies: { identify: (...a) => viewerCookies!.identify(...a) }, log: (msg, extra) => logger.warn(extra, msg) });
  const signal = createSignalUpgradeHandler({ config, hub, viewerAddress: (req) => viewerAddresses.of(req), viewerGate });
  // The browser client: its bundles under the reserved prefix, and its shell
  // for browsers' top-level navigations on P2P sessions (docs/browser-client.md).
  const assets = createBrowserAssets();
  const serveAsset: ReservedRequestHandler = (req, res) => {
    if (!assets.handle(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not built: run npm run build\n');
  };
  const bootstrap = (req: IncomingMessage, res: ServerResponse, session: Session, setCookie: string[]): boolean => {
    if (!signalingSession(config, session).p2pEnabled() || !isBootstrapNavigation(req)) return false;
    if (setCookie.length > 0) res.setHeader('set-cookie', setCookie);
    serveShell(res, { sessionId: session.id, p2p: true });
    return true;
  };
  // The public scheme is known after listen(); no request arrives before.
  let publicScheme = 'http';
  const ownServiceWorker = createOwnServiceWorkerHandler({ secureCookie: () => publicScheme === 'https' });
  const shellCopy = createShellCopyRoute((session) => signalingSession(config, session).p2pEnabled());
  // The SW's cookies for the shim's relayed WebSockets (relay/ws-tickets.ts).
  const wsTickets = createWsTicketStore({ maxPerHost: config.limits.wsTicketsPerSession });
  const reserved: ReservedRoutesOptions = {
    requests: new Map([
      [SESSION_INFO_PATH, createSessionInfoHandler({ config, hub })],
      [CLIENT_PATH, serveAsset],
      [SHELL_PATH, shellCopy],
      [SW_PATH, serveAsset],
      [SHIM_PATH, serveAsset],
      [DIAGNOSTICS_SCRIPT_PATH, serveAsset],
      [DIAGNOSTICS_PATH, (req, res) => serveDiagnostics(req.method, res)],
      [WS_TICKET_PATH, createWsTicketHandler(wsTickets)],
      [OWN_SW_PATH, ownServiceWorker],
      ...(reservedOptions?.requests ?? []),
    ]),
    upgrades: new Map([[SIGNAL_PATH, signal.handler], ...(reservedOptions?.upgrades ?? [])]),
  };

  // Routing needs the real port (default domain localhost:<port>), known after listen().
  let router: Router | undefined;
  // Known after listen(): is this request for the apex host (where /healthz lives)?
  let onApex: (req: IncomingMessage) => boolean = () => false;
  const isHealthCheck = (req: IncomingMessage) => req.method === 'GET' && pathnameOf(req.url) === HEALTH_PATH && onApex(req);
  const onRequest: RequestListener = (req, res) => {
    if (!guard.admitRequest(req, res, isHealthCheck(req))) return;
    if (router) return router.handleRequest(req, res);
    res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
  };
  // With --tls-cert/--tls-key the server speaks HTTPS and WSS itself (http/tls-files.ts);
  // with --http2 too, HTTP/2 and HTTP/1.1 on one port (http/http2-compat.ts).
  const tls = config.tlsCertFile !== undefined && config.tlsKeyFile !== undefined ? { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile } : undefined;
  const tlsPair = tls ? loadTlsPair(tls.certFile, tls.keyFile) : undefined;
  let server: Server | TlsServer;
  let tlsServer: TlsServer | undefined;
  if (tlsPair && usesHttp2(config)) {
    const h2 = createSecureServer(
      {
        ...tlsPair,
        allowHTTP1: true,
        noDelay: true,
        settings: { maxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS, initialWindowSize: HTTP2_STREAM_WINDOW_BYTES },
      },
      (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) =>
        onRequest(isHttp2Request(req) ? asHttp1Request(req) : req, res as ServerResponse),
    );
    manageHttp2Sessions(h2);
    server = tlsServer = h2;
  } else if (tlsPair) {
    server = tlsServer = createHttpsServer({ ...tlsPair, noDelay: true }, onRequest);
  } else {
    server = createServer({ noDelay: true }, onRequest);
  }
  // The HTTP/2 server's HTTP/1.1 connections read it too.
  (server as Server).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Every TCP connection, to cut them at close() (the HTTP/2 server has no closeAllConnections()).
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!guard.admitUpgrade(req))
      return writeRawText(socket, 503, `The server is at its connection limit; try again shortly (${ERR_OVERLOADED})`, [['retry-after', '5']]);
    if (router) return router.handleUpgrade(req, socket, head);
    socket.destroy();
  });
  // Per-address connection quota and the descriptor reserve. The quota is off
  // behind trusted proxies and in a cluster: every connection of a proxy, and
  // every forward of another node, comes from one address.
  const guard = guardConnections(server, {
    perAddress: config.trustProxy > 0 || config.redisUrl ? 0 : config.limits.connectionsPerAddress,
    fdReserve: config.limits.fdReserve,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    ...(fdLimit !== undefined ? { fdLimit } : {}),
    onRefused: (reason, address) => logger.debug({ reason, address }, 'connection refused'),
  });
  // clientError keeps Node's default handler: 431 for oversized headers, 400 for malformed requests.

  await listen(server, config.port, config.host);
  const port = (server.address() as AddressInfo).port;
  const address = resolvePublicAddress(config, port);
  publicScheme = address.scheme;
  const hostRouter = createHostRouter(address.domain);
  onApex = (req) => hostRouter.route(req.headers.host).kind === 'apex';
  const tlsReloader: TlsReloader | undefined = tls && tlsServer && tlsPair ? watchTlsPair({ server: tlsServer, ...tls, current: tlsPair, logger }) : undefined;

  // Access cookies of password-protected sessions: HMAC under this key. One
  // node: derived from the session key, so cookies outlive a restart as the
  // URLs do. A cluster: shared through Redis (cluster/shared-keys.ts), so a
  // cookie earned on one node is valid on every node a session may move to.
  // With WINGMAN_CLUSTER_SECRET every key derives from it: nothing to agree on.
  const accessKeys = createKeyRing(deriveKey(configured ?? sessionKey, 'access-cookie'));
  // Signs the viewer address a node vouches for when it forwards to another (http/viewer-address.ts).
  const hopKeys = createKeyRing(configured ? deriveKey(configured, 'cluster-hop') : randomBytes(ACCESS_KEY_BYTES));
  if (config.redisUrl) {
    const node = config.nodeUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const directory = createRedisSessionDirectory({
      redisUrl: config.redisUrl,
      node,
      onError: (err) => logger.warn({ err }, 'session directory (Redis) error'),
    });
    clusterDirectory = directory;
    // Ready before the first viewer arrives; a Redis that is down only degrades routing (docs/operations.md).
    await directory
      .ready()
      .catch((err: unknown) =>
        logger.warn({ err, redisUrl: config.redisUrl }, 'session directory: Redis does not answer yet; serving local sessions only until it does'),
      );
    if (!configured) {
      sharedKeys = shareKeys(directory, { 'access-cookie': accessKeys, 'cluster-hop': hopKeys, 'session-id': sessionKeys }, logger);
      await sharedKeys.sync().catch((err: unknown) => {
        logger.warn(
          { err },
          'session directory: no shared keys yet; this node signs with its own until Redis answers (viewers of a password-protected session that moves here may enter the password again)',
        );
      });
    }
    // Sessions the previous run of this node (same node URL) held: their agents may resume anywhere now.
    await directory.markOrphans().then(
      (n) => n > 0 && logger.info({ sessions: n }, "session directory: sessions of this node's previous run marked agent-less"),
      (err: unknown) => logger.warn({ err }, "session directory: could not look for sessions of this node's previous run"),
    );
    cluster = createClusterNode({
      directory,
      registry,
      logger,
      onTakenOver: (session) => {
        session.agent?.close('ERR_GOING_AWAY', 'session taken over by another node');
        registry.evict(session);
        tokenSessions.remove(session);
      },
    });
    logger.info({ node }, 'cluster node: sessions shared through Redis');
  }
  const accessGate = createViewerAccessGate({ key: accessKeys, secureCookie: address.scheme === 'https' });
  viewerCookies = createViewerCookies({ key: accessKeys, secureCookie: address.scheme === 'https' });
  const viewerAddresses = createViewerAddresses({ trustProxy: config.trustProxy, ...(config.redisUrl ? { hopKey: hopKeys } : {}) });
  const nodeForwarder = config.redisUrl ? createNodeForwarder(logger, viewerAddresses.hopValue) : undefined;
  const agentEndpoint = createAgentEndpoint({
    accessGate,
    viewerGate,
    sessionIds,
    ...(cluster ? { cluster } : {}),
    registry,
    tokenCheck: createTokenCheck(config.tokens),
    tokenSessions,
    // The password throttle's window and per-source count, per agent source address; no session-wide bound.
    authThrottle: createPasswordThrottle({ perSource: config.limits.agentAuthFailures, perSession: Number.MAX_SAFE_INTEGER }),
    sourceAddress: viewerAddresses.of,
    config,
    logger,
    metrics,
    sessionUrl: address.sessionUrl,
    hub,
  });
  const wsRelay = createWsRelay({
    budget: viewerBuffers,
    forwardedProto: address.scheme,
    metrics,
    logger,
    tickets: wsTickets,
    maxMessageBytes: config.wsMaxMessageBytes,
    idleTimeoutMs: config.limits.wsIdleTimeoutMs,
  });
  router = createRouter({
    stopped,
    hostRouter,
    registry,
    apexApp: createApexApp({
      registry,
      metrics,
      logger,
      publicUrl: address.publicUrl,
      ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
      tlsPermission: createTlsPermission({
        domain: address.domain,
        sessionExists: async (id) => registry.get(id) !== undefined || (clusterDirectory !== undefined && (await clusterDirectory.lookup(id)) !== undefined),
      }).handle,
    }),
    reserved: createReservedRoutes(reserved),
    agentEndpoint,
    httpRelay: { forwardedProto: address.scheme, metrics, logger, budget: viewerBuffers },
    wsRelay,
    logger,
    bootstrap,
    accessGate,
    viewerGate,
    viewerAddress: viewerAddresses.of,
    streamQuota: createViewerStreamQuota(config.limits.streamsPerViewer),
    ...(cluster && nodeForwarder ? { cluster: { node: cluster, forward: nodeForwarder } } : {}),
  });
  logger.info({ host: config.host, port, url: address.publicUrl, domain: address.domain }, 'tunnel server listening');

  let closing: Promise<void> | undefined;
  const close = async () => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    tlsReloader?.close();
    // Agents first: their GOAWAY fails in-flight streams, so viewers get answers.
    await agentEndpoint.close();
    wsRelay.close();
    wsTickets.clear();
    hub.close();
    signal.close();
    sharedKeys?.stop();
    await cluster?.close();
    nodeForwarder?.close();
    registry.clear();
    for (const socket of sockets) socket.destroy();
    await stopped;
    logger.info('tunnel server closed');
  };

  return {
    url: address.publicUrl,
    port,
    config,
    warnings: publicAddressWarnings(config, address),
    sessionUrl: address.sessionUrl,
    close: () => (closing ??= close()),
  };
}
