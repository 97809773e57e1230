/**
 * Dispatch of every HTTP request and upgrade by Host header: session hosts go to the relay (or to Wingman's reserved
 * paths), everything else to the apex app and the agent endpoint. Never throws: an unexpected error becomes a 500 for
 * that one request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AGENT_PATH, isSessionLabel, LINK_PATH, RESERVED_PREFIX, TRANSPORT_HEADER } from '@wingman/protocol';
import { accessRefusal, addressRefusal, sendRefusal, sendSignInAnswer, signInRefusal, writeRefusal } from '../access/refusals';
import type { SignInGate } from '../access/sign-in-gate';
import type { AddressHolds } from '../access/address-holds';
import type { LinkAccessGate } from '../access/link-access';
import { sendLinkRefusal, writeLinkRefusal } from '../access/link-bootstrap';
import type { ClusterNode, Owner } from '../cluster/cluster-node';
import { isClusterHop, type NodeForwarder } from '../cluster/node-forward';
import type { ViewerAccessGate } from '../access/viewer-access';
import type { Logger } from '../logger';
import { relayHttp, type HttpRelayContext } from '../relay/http-relay';
import type { WsRelay } from '../relay/ws-relay';
import { CUT_PAGE, ERR_VIEWER_STREAMS, REFUSAL_MESSAGES, type ViewerStreamQuota } from '../relay/viewer-streams';
import type { AgentEndpoint } from '../agents/agent-endpoint';
import type { Session, SessionRegistry } from '../sessions/registry';
import type { ApexApp } from './apex-app';
import type { HostRouter } from '../http/host-route';
import {
  agentGonePage,
  expiredSessionPage,
  RETRY_AFTER_S,
  sendPage,
  sessionMovingPage,
  stoppedSharingPage,
  unknownSessionPage,
  type PageOptions,
} from '../http/pages';
import type { StoppedSessions } from '../sessions/session-model';
import { writeRawText } from '../http/raw-response';
import { pathnameOf } from './reserved-routes';
import type { SessionRoutes } from './session-routes';
import type { ViewerGate } from '../viewers/viewer-gate';
import { sendHeld, sendViewerStatus, VIEWER_STATUS_PATH, writeHeld } from '../viewers/viewer-pages';
import { appOwnsServiceWorker } from '../browser/own-service-worker';
import { createViewerChecks } from './viewer-checks';

/** What a private session (`wingman http --private`) answers on the relay: it carries nothing of the app. */
const PRIVATE_SESSION_PAGE = {
  status: 403,
  title: 'This session is private',
  message:
    'The developer shares this app only over a verified peer-to-peer connection, which this browser does not have: open the full link the developer sent (with its #k=… part) in a browser with WebRTC. This server relays nothing of it.',
  code: 'ERR_PRIVATE_SESSION',
} as const;

const DIRECTORY_UNAVAILABLE_PAGE: PageOptions = {
  status: 503,
  title: 'Session directory unavailable',
  message: 'This Wingman server cannot tell right now which of its nodes holds the session. Try again in a few seconds.',
  code: 'ERR_DIRECTORY_UNAVAILABLE',
  retry: true,
};

interface RouterOptions {
  hostRouter: HostRouter;
  registry: SessionRegistry;
  /** Sessions whose developer stopped sharing (their viewers get a page that says so and retries). */
  stopped: StoppedSessions;
  apexApp: ApexApp;
  /** Wingman's reserved paths, and the shell a browser's top-level navigation gets on a session with P2P on (session-routes.ts). */
  routes: Pick<SessionRoutes, 'reserved' | 'bootstrap'>;
  agentEndpoint: AgentEndpoint;
  httpRelay: HttpRelayContext;
  wsRelay: WsRelay;
  logger: Logger;
  /** Checks viewers of password-protected sessions (sessions without `access` are open). */
  accessGate: ViewerAccessGate;
  /** Checks that viewers of sessions with a link verifier hold the link (sessions without `link` open to whoever knows the host). */
  linkGate: LinkAccessGate;
  /** The viewer's address of a request (trusted proxies, cluster hops): what per-viewer limits count by. */
  viewerAddress: (req: IncomingMessage) => string;
  /** A node of a cluster: traffic for sessions another node owns is forwarded there. */
  cluster?: { node: ClusterNode; forward: NodeForwarder };
  /** Ties requests of sessions with a viewer gate to their viewer and holds back those not admitted (viewers/viewer-gate.ts). */
  viewerGate: ViewerGate;
  /** Viewers' upgraded sockets by address, so rules a later register brings close them (access/address-holds.ts). */
  addressHolds: AddressHolds;
  /** The sign-in gate of sessions shared with `--allow-email` (access/sign-in-gate.ts). */
  signInGate?: SignInGate;
  /** Relay streams one viewer may hold per session (relay/viewer-streams.ts). */
  streamQuota: ViewerStreamQuota;
}

export type Router = ReturnType<typeof createRouter>;

/** Labels are echoed in pages; a DNS label is at most 63 characters. */
function shortLabel(label: string): string {
  return label.length > 63 ? `${label.slice(0, 60)}...` : label;
}

export function createRouter(options: RouterOptions) {
  const { hostRouter, registry, logger, streamQuota } = options;
  const { reserved } = options.routes;
  const { checkAddress, checkAccess, checkLink, checkSignIn, checkViewer, tieToViewer } = createViewerChecks(options);

  /** The page for a session this node does not hold: expired, stopped by its developer, moving, or unknown. */
  function missingSessionPage(req: IncomingMessage, id: string): PageOptions {
    if (registry.ended(id)) return expiredSessionPage(id);
    if (options.stopped.has(id)) return stoppedSharingPage(id);
    return isClusterHop(req) ? sessionMovingPage(id) : unknownSessionPage(id);
  }

  function request(req: IncomingMessage, res: ServerResponse): void {
    const route = hostRouter(req.headers.host);
    if (route.kind === 'apex') return options.apexApp(req, res);
    const id = route.label;
    if (!isSessionLabel(id)) return sendPage(res, unknownSessionPage(shortLabel(id)));
    const session = registry.get(id);
    const elsewhere = askOwner(req, id, session, (owner) =>
      guard(logger, req, res, () => {
        const local = registry.get(id);
        if (owner?.kind === 'node') return options.cluster!.forward.web(req, res, owner.node);
        if (owner?.kind === 'unavailable' && !local) return sendPage(res, DIRECTORY_UNAVAILABLE_PAGE);
        // Left by this node's run before a restart: its agent is on its way back (as in a grace period).
        if (owner?.kind === 'orphaned' && !local) return sendPage(res, agentGonePage(id));
        // It reached its deadline on another node (or this one before a restart): gone for good.
        if (owner?.kind === 'ended' && !local) return sendPage(res, expiredSessionPage(id));
        serveLocal(req, res, id, local);
      }),
    );
    if (!elsewhere) serveLocal(req, res, id, session);
  }

  /**
   * In a cluster, a session this node does not hold, or holds only in its grace period (its agent may have resumed on
   * another node), may be served elsewhere: the directory is asked, and `then` gets its owner (`unavailable`: the
   * directory did not answer). False when the session is served here at once: a request that already hopped is
   * served here whatever happens.
   */
  function askOwner(req: IncomingMessage, id: string, session: Session | undefined, then: (owner: Owner | { kind: 'unavailable' }) => void): boolean {
    if (!options.cluster || session?.agent || isClusterHop(req)) return false;
    options.cluster.node.ownerElsewhere(id).then(then, (err: unknown) => {
      logger.warn({ err, sessionId: id }, 'session directory unavailable');
      then({ kind: 'unavailable' });
    });
    return true;
  }

  function serveLocal(req: IncomingMessage, res: ServerResponse, id: string, session: Session | undefined): void {
    const address = checkAddress(req, session);
    if (address.kind === 'refused') return sendRefusal(req, res, addressRefusal(address));
    const link = checkLink(req, session);
    if (link.kind !== 'granted') return sendLinkRefusal(req, res);
    // The bootstrap page's exchange: the token earned the cookie (before any password: the next navigation asks for it).
    if (pathnameOf(req.url) === LINK_PATH) return answerLinkExchange(req, res, link.setCookie);
    const access = checkAccess(req, session);
    if (access.kind !== 'granted') return sendRefusal(req, res, accessRefusal(access));
    const signIn = checkSignIn(req, id, session);
    if (signIn.kind !== 'granted') return sendSignInAnswer(req, res, signIn);
    // Read before checkViewer removes Wingman's cookies from the request.
    const appOwnSw = appOwnsServiceWorker(req);
    const gate = checkViewer(req, session, signIn);
    // An earned access cookie, and a viewer cookie, go on whatever answers. Not with setHeader() before the relay:
    // once any field is set that way, Node applies the header array of writeHead() with setHeader() too, and the last
    // Set-Cookie would replace the app's own; the relay adds it to the head.
    const setCookie = [link.setCookie, access.setCookie, gate.kind === 'open' ? undefined : gate.setCookie].filter((c): c is string => c !== undefined);
    const own = () => setCookie.length > 0 && res.setHeader('set-cookie', setCookie);
    const path = pathnameOf(req.url);
    if (gate.kind !== 'open' && path === VIEWER_STATUS_PATH) return sendViewerStatus(res, gate.viewer, setCookie);
    if (gate.kind === 'waiting' || gate.kind === 'refused') return sendHeld(req, res, gate, setCookie);
    if (path.startsWith(RESERVED_PREFIX)) {
      own();
      return reserved.handleRequest(req, res, { sessionId: id, session, ...(gate.kind === 'admitted' ? { viewerId: gate.viewer.id } : {}) });
    }
    if (!session) return sendPage(res, missingSessionPage(req, id));
    if (!session.agent) {
      own();
      return sendPage(res, agentGonePage(id));
    }
    // A browser whose app runs its own Service Worker gets the app itself, over the relay (browser/own-service-worker.ts).
    if (!appOwnSw && options.routes.bootstrap(req, res, session, setCookie)) return;
    if (session.private) {
      req.resume();
      return sendPage(res, PRIVATE_SESSION_PAGE);
    }
    const viewer = options.viewerAddress(req);
    const refused = takeStream(id, session, session.agent.connection.peerMaxConcurrentStreams, viewer);
    if (refused) {
      req.resume();
      return sendPage(res, { status: 503, title: 'Too many requests at once', message: refused, code: ERR_VIEWER_STREAMS, retry: true, relayed: true });
    }
    const stream = relayHttp(session.agent.connection, req, res, options.httpRelay, setCookie);
    streamQuota.hold(session, viewer, stream, () => sendPage(res, CUT_PAGE));
    tieToViewer(session, gate, stream, () => res.destroy());
  }

  /** Takes a relay stream slot for `viewer` (viewer-streams.ts); undefined when taken, else what the refusal says. */
  function takeStream(id: string, session: Session, agentStreams: number, viewer: string): string | undefined {
    const verdict = streamQuota.acquire(session, viewer, agentStreams);
    if (verdict === 'taken') return undefined;
    logger.debug({ sessionId: id, viewer, verdict }, 'viewer over its stream quota');
    return REFUSAL_MESSAGES[verdict];
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = hostRouter(req.headers.host);
    if (route.kind === 'apex') {
      if (pathnameOf(req.url) === AGENT_PATH) return options.agentEndpoint.handleUpgrade(req, socket, head);
      return writeRawText(socket, 404, 'Not found');
    }
    const id = route.label;
    if (!isSessionLabel(id)) return writeRawText(socket, 404, `No Wingman session ${shortLabel(id)} here`);
    const session = registry.get(id);
    const elsewhere = askOwner(req, id, session, (owner) =>
      guard(logger, req, socket, () => {
        const local = registry.get(id);
        if (owner?.kind === 'node') return options.cluster!.forward.ws(req, socket, head, owner.node);
        if (owner?.kind === 'unavailable' && !local) return writeRawText(socket, 503, 'The session directory is unavailable; try again in a few seconds');
        if (owner?.kind === 'orphaned' && !local) return writeAgentGone(socket, id);
        if (owner?.kind === 'ended' && !local) return writeRawText(socket, 410, `Wingman session ${id} has expired`);
        upgradeLocal(req, socket, head, id, local);
      }),
    );
    if (!elsewhere) upgradeLocal(req, socket, head, id, session);
  }

  function upgradeLocal(req: IncomingMessage, socket: Duplex, head: Buffer, id: string, session: Session | undefined): void {
    const address = checkAddress(req, session);
    if (address.kind === 'refused') return writeRefusal(socket, addressRefusal(address));
    if (checkLink(req, session).kind !== 'granted') return writeLinkRefusal(socket);
    const access = checkAccess(req, session);
    if (access.kind !== 'granted') return writeRefusal(socket, accessRefusal(access));
    const signIn = checkSignIn(req, id, session);
    if (signIn.kind !== 'granted') return writeRefusal(socket, signInRefusal(signIn));
    const gate = checkViewer(req, session, signIn);
    if (gate.kind === 'waiting' || gate.kind === 'refused') return writeHeld(socket, gate);
    if (pathnameOf(req.url).startsWith(RESERVED_PREFIX)) {
      // Signaling outlives the agent's connection: rules a new register brings must reach it (address-holds.ts).
      options.addressHolds.hold(id, options.viewerAddress(req), socket);
      return reserved.handleUpgrade(req, socket, head, { sessionId: id, session, ...(gate.kind === 'admitted' ? { viewerId: gate.viewer.id } : {}) });
    }
    if (!session) {
      if (isClusterHop(req))
        return writeRawText(socket, 503, `Session ${id} is moving between Wingman servers; try again`, [['retry-after', String(RETRY_AFTER_S)]]);
      if (registry.ended(id)) return writeRawText(socket, 410, `Wingman session ${id} has expired`);
      if (options.stopped.has(id))
        return writeRawText(socket, 503, `The developer stopped sharing Wingman session ${id}`, [['retry-after', String(RETRY_AFTER_S)]]);
      return writeRawText(socket, 404, `No Wingman session ${id} here`);
    }
    if (!session.agent) return writeAgentGone(socket, id);
    if (session.private) return writeRawText(socket, 403, `${PRIVATE_SESSION_PAGE.message} (${PRIVATE_SESSION_PAGE.code})`);
    const viewer = options.viewerAddress(req);
    const refused = takeStream(id, session, session.agent.connection.peerMaxConcurrentStreams, viewer);
    if (refused) {
      return writeRawText(socket, 503, `${refused} (${ERR_VIEWER_STREAMS})`, [
        ['retry-after', String(RETRY_AFTER_S)],
        [TRANSPORT_HEADER, 'relay'],
      ]);
    }
    const stream = options.wsRelay.relay(session.agent.connection, req, socket, head);
    streamQuota.hold(session, viewer, stream, () => stream && options.wsRelay.preempt(stream));
    tieToViewer(session, gate, stream, () => socket.destroy());
  }

  return {
    handleRequest(req: IncomingMessage, res: ServerResponse): void {
      guard(logger, req, res, () => request(req, res));
    },
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      // An upgrade socket has no error listener until ws takes it; a reset must not crash the server.
      socket.on('error', (err) => logger.debug({ err }, 'upgrade socket error'));
      guard(logger, req, socket, () => upgrade(req, socket, head));
    },
  };
}

/** LINK_PATH: POST only; 204, with the cookie when the session has a link verifier. */
function answerLinkExchange(req: IncomingMessage, res: ServerResponse, setCookie: string | undefined): void {
  req.resume();
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST', 'content-length': 0 }).end();
  res.writeHead(204, { 'cache-control': 'no-store', ...(setCookie !== undefined ? { 'set-cookie': setCookie } : {}) }).end();
}

function writeAgentGone(socket: Duplex, id: string): void {
  writeRawText(socket, 502, `The Wingman agent of session ${id} is reconnecting`, [['retry-after', String(RETRY_AFTER_S)]]);
}

/**
 * Runs `fn` for a request (`to`: its response) or an upgrade (`to`: its socket); an unexpected error becomes a 500 for
 * that one only (also after an await).
 */
function guard(logger: Logger, req: IncomingMessage, to: ServerResponse | Duplex, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    const request = 'writeHead' in to;
    logger.error({ err, url: req.url }, request ? 'request handling failed' : 'upgrade handling failed');
    if (request) sendPage(to, { status: 500, title: 'Internal error', message: 'The Wingman server failed on this request.', code: 'ERR_INTERNAL' });
    else writeRawText(to, 500, 'Internal error');
  }
}
