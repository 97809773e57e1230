/**
 * Admission of TCP connections, before any request is read (docs/operations.md §Limits):
 * - per source address (sourceKey): at most `perAddress` open; the next is closed at once. Off behind trusted proxies,
 *   where every connection comes from the proxy.
 * - file descriptors: past `fdLimit − fdReserve` a new connection may only ask for `/healthz` (else 503
 *   ERR_OVERLOADED); past `fdLimit − HARD_FD_RESERVE` the oldest connection yet to send a request is closed for it.
 * - first request: a connection without a request head `headerTimeoutMs` after accept is closed.
 * Open descriptors are estimated as those open at start plus the connections open now; the reserve covers the rest.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import { closeAfterResponse } from '../http/http2-compat';
import { decrement, sourceKey } from '../http/source-key';

/**
 * Descriptors never handed to connections: the flood's own accept() needs one (libuv's EMFILE fallback), so do Node's
 * internals (DNS, timers' fds) and the log stream.
 */
const HARD_FD_RESERVE = 16;
/** A /healthz-only connection that sends nothing for this long is closed: it holds a descriptor of the reserve. */
const HEALTH_ONLY_IDLE_MS = 10_000;
/** Stable code of a request refused because the server is at its descriptor limit. */
export const ERR_OVERLOADED = 'ERR_OVERLOADED';

interface ConnectionGuardOptions {
  /** Open connections per source address (IPv6: /64); 0 for no limit. */
  perAddress: number;
  fdReserve: number;
  /** The process's descriptor limit; default: read from /proc/self/limits (undefined elsewhere: no descriptor guard). */
  fdLimit?: number;
  /** Time from accept to the first request head before the connection is closed, ms. */
  headerTimeoutMs: number;
  /** Called when a connection is turned away (logs). */
  onRefused?: (reason: 'per-address' | 'fd-limit' | 'header-timeout', address: string) => void;
}

/** The soft RLIMIT_NOFILE of this process, from /proc (Linux); undefined when unknown or unlimited. */
function readFdLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * The TCP socket a request came on, as the 'connection' event saw it: over TLS `req.socket` is the TLSSocket wrapped
 * around it (over HTTP/2 a proxy of that), whose `_parent` is the TCP socket.
 */
function tcpSocketOf(req: IncomingMessage): Socket {
  const socket = req.socket as Socket & { _parent?: Socket | null };
  return socket._parent ?? socket;
}

export function guardConnections(server: Server, options: ConnectionGuardOptions) {
  const fdLimit = options.fdLimit ?? readFdLimit();
  const baseline = fdLimit === undefined ? 0 : openFds();
  const byAddress = new Map<string, number>();
  /** Connections admitted for /healthz only. */
  const healthOnly = new WeakSet<Socket>();
  /** Health-only connections that have not sent a request yet, oldest first: the ones evicted for room. */
  const idle = new Set<Socket>();
  /** Connections that have not sent a complete request head yet: their header timers. */
  const awaitingHead = new Map<Socket, ReturnType<typeof setTimeout>>();
  let open = 0;

  const headArrived = (socket: Socket) => {
    clearTimeout(awaitingHead.get(socket));
    awaitingHead.delete(socket);
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const key = options.perAddress > 0 ? sourceKey(address) : undefined;
    if (key !== undefined && (byAddress.get(key) ?? 0) >= options.perAddress) {
      options.onRefused?.('per-address', address);
      socket.destroy();
      return;
    }
    if (fdLimit !== undefined && baseline + open + 1 > fdLimit - HARD_FD_RESERVE) {
      const oldest = idle.values().next().value;
      if (!oldest) {
        options.onRefused?.('fd-limit', address);
        socket.destroy();
        return;
      }
      idle.delete(oldest);
      oldest.destroy();
    }
    open++;
    if (key !== undefined) byAddress.set(key, (byAddress.get(key) ?? 0) + 1);
    if (fdLimit !== undefined && baseline + open > fdLimit - options.fdReserve) {
      healthOnly.add(socket);
      idle.add(socket);
      socket.setTimeout(HEALTH_ONLY_IDLE_MS, () => socket.destroy());
    }
    const headTimer = setTimeout(() => {
      awaitingHead.delete(socket);
      options.onRefused?.('header-timeout', address);
      socket.destroy();
    }, options.headerTimeoutMs);
    headTimer.unref();
    awaitingHead.set(socket, headTimer);
    socket.once('close', () => {
      open--;
      idle.delete(socket);
      headArrived(socket);
      if (key !== undefined) decrement(byAddress, key);
    });
  });

  return {
    /** Call first for every request: false when it was answered here (a connection admitted for /healthz only asking for something else). */
    admitRequest(req: IncomingMessage, res: ServerResponse, isHealthCheck: boolean): boolean {
      const socket = tcpSocketOf(req);
      headArrived(socket);
      if (!healthOnly.has(socket)) return true;
      idle.delete(socket);
      if (isHealthCheck) {
        res.shouldKeepAlive = false;
        return true;
      }
      req.resume();
      closeAfterResponse(res);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '5' });
      res.end(`The server is at its connection limit; try again shortly (${ERR_OVERLOADED})\n`);
      return false;
    },
    /** The same for upgrades: false when the socket was answered and closed. */
    admitUpgrade(req: IncomingMessage): boolean {
      const socket = tcpSocketOf(req);
      headArrived(socket);
      return !healthOnly.has(socket);
    },
  };
}
