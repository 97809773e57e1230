/**
 * The server's socket: HTTP, or HTTPS (tls-files.ts) with HTTP/2 beside HTTP/1.1 (http/http2-compat.ts,
 * http/h2-websocket.ts); the connection guard before every request; every connection tracked so close() can cut them
 * (the HTTP/2 server has no closeAllConnections()). Until route() (which needs the port) requests get 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Server as TlsServer } from 'node:tls';
import { usesHttp2, type TunnelServerConfig } from '../config';
import { asHttp1Upgrade, isWebSocketConnect } from '../http/h2-websocket';
import { asHttp1Request, HTTP2_MAX_CONCURRENT_STREAMS, HTTP2_STREAM_WINDOW_BYTES, isHttp2Request, manageHttp2Sessions } from '../http/http2-compat';
import { writeRawText } from '../http/raw-response';
import type { Logger } from '../logger';
import type { Router } from '../routing/router';
import { ERR_OVERLOADED, guardConnections } from './connection-guard';
import { loadTlsPair, watchTlsPair } from './tls-files';

/**
 * Idle keep-alive time of viewer connections, ms. Above the 60 s idle timeout of common reverse proxies (nginx, AWS
 * ALB), so the proxy closes first and never reuses a socket this server is closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

interface ListenerOptions {
  config: TunnelServerConfig;
  logger: Logger;
  /** A request the guard admits even at the descriptor limit (the apex's health check). */
  isHealthCheck: (req: IncomingMessage) => boolean;
  /** The process's descriptor limit the connection guard works with (tests); default: RLIMIT_NOFILE from /proc. */
  fdLimit?: number;
  /** Counts each upgrade handed on, by the HTTP version it came over (`2`: an extended CONNECT, RFC 8441). */
  countUpgrade?: (http: '1.1' | '2') => void;
}

export function createListener(options: ListenerOptions) {
  const { config, logger, isHealthCheck, fdLimit, countUpgrade } = options;
  /** Where admitted requests and upgrades go. */
  let handlers: Router | undefined;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!guard.admitRequest(req, res, isHealthCheck(req))) return;
    if (handlers) return handlers.handleRequest(req, res);
    res.writeHead(503, { 'content-type': 'text/plain' }).end('starting\n');
  };
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
        // RFC 8441: browsers open WebSockets on this connection (http/h2-websocket.ts).
        settings: { maxConcurrentStreams: HTTP2_MAX_CONCURRENT_STREAMS, initialWindowSize: HTTP2_STREAM_WINDOW_BYTES, enableConnectProtocol: true },
      },
      (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) =>
        onRequest(isHttp2Request(req) ? asHttp1Request(req) : req, res as ServerResponse),
    );
    // Node's compat layer gives every CONNECT here: an HTTP/2 stream as (request, response), an HTTP/1.1 one (a proxy
    // request; this server is no proxy) as (request, socket, head).
    h2.on('connect', (req: IncomingMessage | Http2ServerRequest, res: Http2ServerResponse | Duplex) => {
      if (!isHttp2Request(req)) return (res as Duplex).destroy();
      const response = res as Http2ServerResponse;
      if (!isWebSocketConnect(req))
        return void response.writeHead(501, { 'content-type': 'text/plain; charset=utf-8' }).end('CONNECT is only for WebSockets here\n');
      const upgrade = asHttp1Upgrade(req, response);
      onUpgrade(upgrade.req, upgrade.socket, upgrade.head, '2');
    });
    manageHttp2Sessions(h2, (reason, streams) =>
      logger.debug({ reason, streams }, 'HTTP/2 connection retired before its stream resets reach the library limit'),
    );
    server = tlsServer = h2;
  } else if (tlsPair) {
    server = tlsServer = createHttpsServer({ ...tlsPair, noDelay: true }, onRequest);
  } else {
    server = createServer({ noDelay: true }, onRequest);
  }
  // The HTTP/2 server's HTTP/1.1 connections read it too.
  (server as Server).keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, http: '1.1' | '2'): void {
    if (!guard.admitUpgrade(req))
      return writeRawText(socket, 503, `The server is at its connection limit; try again shortly (${ERR_OVERLOADED})`, [['retry-after', '5']]);
    if (!handlers) return void socket.destroy();
    countUpgrade?.(http);
    handlers.handleUpgrade(req, socket, head);
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => onUpgrade(req, socket, head, '1.1'));
  // Per-address connection quota and the descriptor reserve. The quota is off behind trusted proxies and in a
  // cluster: every connection of a proxy, and every forward of another node, comes from one address.
  const guard = guardConnections(server, {
    perAddress: config.trustProxy > 0 || config.redisUrl ? 0 : config.limits.connectionsPerAddress,
    fdReserve: config.limits.fdReserve,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    ...(fdLimit !== undefined ? { fdLimit } : {}),
    onRefused: (reason, address) => logger.debug({ reason, address }, 'connection refused'),
  });
  // clientError keeps Node's default handler: 431 for oversized headers, 400 for malformed requests.
  let tlsReloader: ReturnType<typeof watchTlsPair> | undefined;

  return {
    /** Listens on the configured host and port; resolves with the port (the real one when 0 was asked for). */
    async listen(): Promise<number> {
      // Rejects with the 'error' that comes instead (EADDRINUSE, EACCES).
      const listening = once(server, 'listening');
      server.listen(config.port, config.host);
      await listening;
      if (tls && tlsServer && tlsPair) tlsReloader = watchTlsPair({ server: tlsServer, ...tls, current: tlsPair, logger });
      return (server.address() as AddressInfo).port;
    },
    /** Sends admitted requests and upgrades to `given` from now on. */
    route(given: Router): void {
      handlers = given;
    },
    /** Stops accepting connections and watching the TLS files; resolves once every connection has ended (see cutConnections). */
    stop(): Promise<void> {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      tlsReloader?.close();
      return stopped;
    },
    cutConnections(): void {
      for (const socket of sockets) socket.destroy();
    },
  };
}
