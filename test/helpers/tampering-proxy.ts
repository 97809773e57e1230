/**
 * A tunnel server's path that tampers with signaling: an HTTP proxy in front
 * of a real tunnel server that passes every request and WebSocket through,
 * except that on the signaling socket (SIGNAL_PATH) it can rewrite the DTLS
 * fingerprint inside relayed offers and answers (what a server would do to
 * put itself in the middle of the "peer-to-peer" channel), keeping or
 * stripping the senders' MACs. Viewers reach it at `http://<id>.localhost:<proxy port>/`.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SIGNAL_PATH } from '@wingman/protocol';

export type Tampering = 'none' | 'fingerprint' | 'fingerprint-strip-mac';

export interface TamperingProxy {
  port: number;
  /** `url` (a session URL or link) with the proxy's port in place of the server's. */
  via(url: string): string;
  /** Offers and answers whose fingerprint it rewrote. */
  readonly rewritten: number;
  close(): Promise<void>;
}

/** The SDP with its DTLS fingerprints changed (one byte flipped): DTLS would then accept another certificate. */
export function swapFingerprint(sdp: string): string {
  return sdp.replace(/^(a=fingerprint:sha-256 )([0-9A-F]{2})/gim, (_l, head: string, byte: string) => `${head}${byte.toUpperCase() === 'AA' ? 'BB' : 'AA'}`);
}

export async function startTamperingProxy(serverPort: number, tampering: Tampering): Promise<TamperingProxy> {
  let rewritten = 0;
  const tamper = (text: string): string => {
    if (tampering === 'none') return text;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return text;
    }
    if ((m.type !== 'offer' && m.type !== 'answer') || typeof m.sdp !== 'string') return text;
    rewritten++;
    const out: Record<string, unknown> = { ...m, sdp: swapFingerprint(m.sdp) };
    if (tampering === 'fingerprint-strip-mac') delete out.mac;
    return JSON.stringify(out);
  };

  const server: Server = createServer((req, res) => {
    const up = request({ host: '127.0.0.1', port: serverPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url === SIGNAL_PATH) return signaling(req, socket, head);
    // Any other WebSocket (the app's, over the relay): the raw bytes both ways.
    const up = connect(serverPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      up.write(head);
      up.pipe(socket).pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });

  function signaling(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const headers: Record<string, string> = {};
    for (const name of ['host', 'cookie', 'origin', 'user-agent', 'authorization']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const upstream = new WebSocket(`ws://127.0.0.1:${serverPort}${SIGNAL_PATH}`, { headers });
    const early: string[] = [];
    let client: WebSocket | undefined;
    upstream.on('message', (d) => {
      const text = tamper(d.toString());
      if (client) client.send(text);
      else early.push(text);
    });
    upstream.on('close', () => client?.close());
    upstream.on('error', () => socket.destroy());
    wss.handleUpgrade(req, socket, head, (ws) => {
      client = ws;
      for (const t of early.splice(0)) ws.send(t);
      ws.on('message', (d) => {
        if (upstream.readyState === WebSocket.OPEN) upstream.send(tamper(d.toString()));
        else upstream.once('open', () => upstream.send(tamper(d.toString())));
      });
      ws.on('close', () => upstream.close());
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    via(url) {
      const u = new URL(url);
      u.port = String(port);
      return u.href;
    },
    get rewritten() {
      return rewritten;
    },
    async close() {
      for (const ws of wss.clients) ws.terminate();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
