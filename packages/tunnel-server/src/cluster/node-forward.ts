/**
 * Viewer traffic for a session another node owns goes to that node, HTTP and WebSocket upgrades alike (http-proxy),
 * with the Host header unchanged (all nodes serve the same domain) and the viewer's address appended to
 * X-Forwarded-For. CLUSTER_HOP_HEADER marks the hop: a node never forwards a request that already made one (no loops
 * while the directory changes). Its value carries the viewer's address as this node resolved it, signed
 * (viewers/viewer-address.ts), so the owner node counts per-viewer limits by it.
 */
import { Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import { closeExchange } from '../http/http2-compat';
import { sendPage } from '../http/pages';
import { writeRawText } from '../http/raw-response';
import type { Logger } from '../logger';
import { clientAddress, CLUSTER_HOP_HEADER } from '../viewers/viewer-address';

export type NodeForwarder = ReturnType<typeof createNodeForwarder>;

/** True when the request already crossed from another node. */
export function isClusterHop(req: IncomingMessage): boolean {
  return req.headers[CLUSTER_HOP_HEADER] !== undefined;
}

export function createNodeForwarder(logger: Logger, hopValue: (req: IncomingMessage) => string) {
  const hopHeaders = (req: IncomingMessage): Record<string, string> => {
    const prior = req.headers['x-forwarded-for'];
    const chain = [...(Array.isArray(prior) ? prior : prior ? [prior] : []), clientAddress(req)].join(', ');
    return { [CLUSTER_HOP_HEADER]: hopValue(req), 'x-forwarded-for': chain };
  };

  // Keep-alive to the other nodes; no timeout of our own (SSE and WebSockets are long), the owner answers 504s.
  const proxy = httpProxy.createProxyServer({ xfwd: false, changeOrigin: false, ws: true, agent: new Agent({ keepAlive: true }) });
  /** Upgrade requests' sockets the owner answered (a 101, or a refusal): an error after that may not write a response into them. */
  const answered = new WeakSet<object>();
  proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
    const mark = () => answered.add(socket);
    proxyReq.once('response', mark);
    proxyReq.once('upgrade', mark);
  });
  proxy.on('error', (err, _req, target) => {
    if (target && !('writeHead' in target) && answered.has(target)) {
      // The owner's connection failed after it answered (it reset a WebSocket's connection): the viewer's socket
      // carries WebSocket frames or the owner's response now, so it is closed, never given a 502 in the middle.
      logger.debug({ err }, 'cluster: the owner node dropped a forwarded upgrade');
      return void target.destroy();
    }
    logger.warn({ err }, 'cluster: forwarding to the owner node failed');
    if (target && 'writeHead' in target) {
      sendPage(target, {
        status: 502,
        title: 'Session unreachable',
        message: 'The Wingman node that holds this session did not answer. Try again in a few seconds.',
        code: 'ERR_NODE_UNREACHABLE',
        retry: true,
      });
    } else if (target) {
      writeRawText(target, 502, 'The Wingman node that holds this session did not answer');
    }
  });
  // The owner node cut its response short (a body shorter than its Content-Length, an agent lost mid-body):
  // http-proxy's pipe would leave the viewer's response open forever. Close the viewer's connection once what arrived
  // is flushed, as the owner did with ours.
  proxy.on('proxyRes', (proxyRes, _req, res) => {
    const cut = () => {
      if (!proxyRes.complete && !res.writableEnded && !res.destroyed) closeExchange(res, true);
    };
    proxyRes.once('aborted', cut);
    proxyRes.once('close', cut);
  });
  return {
    web(req: IncomingMessage, res: ServerResponse, node: string): void {
      proxy.web(req, res, { target: node, headers: hopHeaders(req) });
    },
    ws(req: IncomingMessage, socket: Duplex, head: Buffer, node: string): void {
      proxy.ws(req, socket, head, { target: node, headers: hopHeaders(req) });
    },
    close(): void {
      proxy.close();
    },
  };
}
