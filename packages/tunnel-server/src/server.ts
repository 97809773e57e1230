/**
 * createTunnelServer(): wires the layers (README §Layers) into one server: the session model, the cluster when
 * REDIS_URL is set, the agent endpoint, the relays and the router behind the listener; listens, and returns the
 * server's address and a close().
 */
import type { IncomingMessage } from 'node:http';
import { createLinkAccessGate } from './access/link-access';
import { createSignInFlow } from './access/sign-in-flow';
import { createFlowSeal } from './access/sign-in-flow-state';
import { createSignInGate, SIGN_IN_CALLBACK_PATH } from './access/sign-in-gate';
import { createSignedValues } from './access/sign-in-tokens';
import { createViewerAccessGate } from './access/viewer-access';
import { createAddressHolds } from './access/address-holds';
import { createAgentEndpoint } from './agents/agent-endpoint';
import { joinCluster, type ClusterMembership } from './cluster/join-cluster';
import { createNodeForwarder } from './cluster/node-forward';
import { resolveConfig, type TunnelServerConfig, type TunnelServerOptions } from './config';
import { createListener } from './listener/listener';
import { publicAddressWarnings, resolvePublicAddress, type AddressWarning } from './listener/public-address';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { createBufferBudget } from '@wingman/protocol';
import { createViewerStreamQuota } from './relay/viewer-streams';
import { createWsRelay } from './relay/ws-relay';
import { createApexApp, HEALTH_PATH } from './routing/apex-app';
import { createHostRouter } from './http/host-route';
import { pathnameOf, type ReservedRoutesOptions } from './routing/reserved-routes';
import { createRouter } from './routing/router';
import { createSessionRoutes } from './routing/session-routes';
import { createTlsPermission } from './routing/tls-permission';
import { createServerKeys } from './sessions/server-keys';
import { createSessionIds } from './sessions/session-key';
import { createSessionModel } from './sessions/session-model';
import { loadNameStoreOrWarn } from './sessions/session-names';
import { createCutLog } from './sessions/cut-log';
import { createSignalingHub } from './signaling/signaling-hub';
import { createViewerAddresses } from './viewers/viewer-address';
import { createViewerCookies } from './viewers/viewer-cookie';
import { createViewerGate } from './viewers/viewer-gate';

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
  readonly port: number;
  readonly config: TunnelServerConfig;
  /** Configurations whose links cannot work, or work without P2P (the bin prints them). */
  readonly warnings: readonly AddressWarning[];
  /** Public URL of a session: `http://<id>.localhost:8080/`. */
  sessionUrl(sessionId: string): string;
  /** Disconnects agents (GOAWAY), cuts viewers, stops listening. Idempotent. */
  close(): Promise<void>;
}

export async function createTunnelServer(options: CreateTunnelServerOptions = {}): Promise<TunnelServer> {
  const { logger: givenLogger, reserved: reservedOptions, fdLimit, ...rest } = options;
  const config = resolveConfig(rest);
  const logger = givenLogger ?? createLogger(config.logLevel);
  const keys = createServerKeys(config, logger);
  const sessionIds = createSessionIds(keys.session);
  const { registry, tokenSessions, stopped, events } = createSessionModel({
    sessionIds,
    graceMs: config.sessionGraceMs,
    sessionsPerToken: config.limits.sessionsPerToken,
    logger,
  });
  const metrics = createMetrics({ sessionStats: () => registry.stats() });
  const streamCuts = createCutLog(logger, 'stream');
  const signalingCuts = createCutLog(logger, 'signaling socket');
  const hub = createSignalingHub({
    metrics: metrics.p2p,
    maxPerAddress: config.limits.signalingPerViewer,
    onCut: (cut) => signalingCuts.record(cut.group, cut),
  });

  // Known after listen(): is this request for the apex host (where /healthz lives)?
  let onApex: (req: IncomingMessage) => boolean = () => false;
  const listener = createListener({
    config,
    logger,
    isHealthCheck: (req) => req.method === 'GET' && pathnameOf(req.url) === HEALTH_PATH && onApex(req),
    ...(fdLimit !== undefined ? { fdLimit } : {}),
    countUpgrade: (http) => metrics.webSocketUpgrades.inc({ http }),
  });
  const port = await listener.listen();
  // Routing needs the real port (default domain localhost:<port>).
  const address = resolvePublicAddress(config, port);
  const hostRouter = createHostRouter(address.domain);
  onApex = (req) => hostRouter(req.headers.host).kind === 'apex';

  let cluster: ClusterMembership | undefined;
  if (config.redisUrl) {
    cluster = await joinCluster({
      config: { ...config, redisUrl: config.redisUrl },
      port,
      logger,
      registry,
      sharedRings: keys.derived ? undefined : { 'access-cookie': keys.access, 'cluster-hop': keys.hop, 'session-id': keys.session },
      onTakenOver: (session) => {
        session.agent?.close('ERR_GOING_AWAY', 'session taken over by another node');
        registry.evict(session);
        tokenSessions.remove(session);
      },
    });
    const node = cluster.node;
    events.expired = (session) => node.expired(session);
    events.attached = (session) => node.attached(session);
    events.detached = (session) => node.detached(session);
  }
  // Stable names: in Redis for a cluster, in the state directory for one node (sessions/session-names.ts).
  const names = cluster ? cluster.directory.names : loadNameStoreOrWarn(config.stateDir, config.tokens, (name) => registry.get(name) !== undefined, logger);
  const secureCookie = address.scheme === 'https';
  const accessGate = createViewerAccessGate({ key: keys.access, secureCookie });
  const linkGate = createLinkAccessGate({ key: keys.access, secureCookie });
  const viewerCookies = createViewerCookies({ key: keys.access, secureCookie });
  const signed = createSignedValues(keys.access);
  const signInGate = config.oidc ? createSignInGate({ signed, publicUrl: address.publicUrl, secureCookie, signInTtlS: config.signInTtlS }) : undefined;
  const signInFlow = config.oidc
    ? createSignInFlow({
        oidc: config.oidc,
        signed,
        flows: createFlowSeal(keys.access),
        publicUrl: address.publicUrl,
        sessionUrl: address.sessionUrl,
        secureCookie,
        signInTtlS: config.signInTtlS,
        logger,
      })
    : undefined;
  const viewerGate = createViewerGate({ cookies: viewerCookies, log: (msg, extra) => logger.warn(extra, msg) });
  const viewerAddresses = createViewerAddresses({ trustProxy: config.trustProxy, ...(config.redisUrl ? { hopKey: keys.hop } : {}) });
  const nodeForwarder = cluster ? createNodeForwarder(logger, viewerAddresses.hopValue) : undefined;
  const routes = createSessionRoutes({
    config,
    hub,
    viewerGate,
    viewerAddress: viewerAddresses.of,
    secureCookie,
    ...(reservedOptions ? { extra: reservedOptions } : {}),
  });
  // Viewers' upgraded sockets by address: a register's new address rules close those they refuse.
  const addressHolds = createAddressHolds();
  const agentEndpoint = createAgentEndpoint({
    addressHolds,
    accessGate,
    linkGate,
    viewerGate,
    sessionIds,
    ...(cluster ? { cluster: cluster.node } : {}),
    registry,
    names,
    tokenSessions,
    sourceAddress: viewerAddresses.of,
    config,
    logger,
    metrics,
    sessionUrl: address.sessionUrl,
    hub,
  });
  // Bytes held for viewers across all their connections (@wingman/protocol's buffer-budget.ts).
  const relay = { forwardedProto: address.scheme, metrics, logger, budget: createBufferBudget(config.limits.viewerBufferBudgetBytes) };
  const wsRelay = createWsRelay({
    ...relay,
    tickets: routes.wsTickets,
    maxMessageBytes: config.wsMaxMessageBytes,
    idleTimeoutMs: config.limits.wsIdleTimeoutMs,
  });
  listener.route(
    createRouter({
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
          sessionExists: async (id) => registry.get(id) !== undefined || (await cluster?.directory.lookup(id)) !== undefined,
          nameClaimed: (name) => names.claimed(name),
          sourceAddress: viewerAddresses.of,
        }),
        ...(signInFlow ? { signIn: signInFlow } : {}),
      }),
      routes,
      agentEndpoint,
      httpRelay: relay,
      wsRelay,
      logger,
      accessGate,
      linkGate,
      viewerGate,
      ...(signInGate ? { signInGate } : {}),
      viewerAddress: viewerAddresses.of,
      streamQuota: createViewerStreamQuota(config.limits.streamsPerViewer, (cut) => {
        metrics.viewerStreamsCut.inc();
        streamCuts.record(cut.group.id, cut);
      }),
      addressHolds,
      ...(cluster && nodeForwarder ? { cluster: { node: cluster.node, forward: nodeForwarder } } : {}),
    }),
  );
  logger.info({ host: config.host, port, url: address.publicUrl, domain: address.domain }, 'tunnel server listening');
  if (config.oidc)
    logger.info({ issuer: config.oidc.issuer, redirectUri: `${address.publicUrl.replace(/\/$/, '')}${SIGN_IN_CALLBACK_PATH}` }, 'viewer sign-in on');

  let closing: Promise<void> | undefined;
  const close = async () => {
    const stoppedListening = listener.stop();
    // The cut summaries first: a shutdown that overruns its bound exits without the rest.
    streamCuts.flush();
    signalingCuts.flush();
    // Agents first: their GOAWAY fails in-flight streams, so viewers get answers.
    await agentEndpoint.close();
    wsRelay.close();
    hub.close();
    routes.close();
    cluster?.sharedKeys?.stop();
    await cluster?.node.close();
    nodeForwarder?.close();
    registry.clear();
    listener.cutConnections();
    await stoppedListening;
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
