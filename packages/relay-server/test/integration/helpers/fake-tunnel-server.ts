/**
 * A small real WebSocket server playing the tunnel server's side of the
 * agent endpoint: Bearer token check on the upgrade, register → registered
 * (with resume), then a protocol Connection in the `client` role on which a
 * test opens relay streams. Not the real tunnel server (packages/tunnel-server):
 * only the agent-facing contract.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { AGENT_PATH, connectionOverWebSocket, parseAgentMessage, type Connection, type RegisterMessage, type ServerToAgent } from '@wingman/protocol';
import { waitForEvent } from '../../../../../test/helpers/wait';

export interface FakeTunnelServer {
  port: number;
  url: string;
  /** Upgrade attempts, accepted or not. */
  upgrades: number;
  /** Register messages received, in order. */
  registers: RegisterMessage[];
  /** The latest agent's connection (after registered). */
  connection(): Connection | undefined;
  /** The latest agent's socket. */
  socket(): WebSocket | undefined;
  /** Resolves when `registers` reaches `count`. */
  waitForRegisters(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeTunnelOptions {
  token?: string;
  port?: number;
  /** Answer register with this instead of `registered` (e.g. an error message). */
  answer?: (register: RegisterMessage) => ServerToAgent | undefined;
}

function sessionId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(26), (b) => alphabet[b % 32]).join('');
}

export async function startFakeTunnelServer(options: FakeTunnelOptions = {}): Promise<FakeTunnelServer> {
  const token = options.token ?? 'test-token-123';
  const sessions = new Map<string, string>(); // id → secret
  const sockets = new Set<WebSocket>();
  const registers: RegisterMessage[] = [];
  /** Emits 'register' as each entry of `registers` arrives. */
  const events = new EventEmitter();
  let latest: { ws: WebSocket; conn?: Connection } | undefined;
  let upgrades = 0;
  let port = 0;

  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upgrades++;
    if (req.url !== AGENT_PATH) return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    if (req.headers.authorization !== `Bearer ${token}`) return void socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      latest = { ws };
      const entry = latest;
      ws.once('message', (data, isBinary) => {
        if (isBinary) return ws.close(1002);
        const register = parseAgentMessage(data.toString()) as RegisterMessage;
        registers.push(register);
        events.emit('register', register);
        const custom = options.answer?.(register);
        if (custom) {
          ws.send(JSON.stringify(custom));
          return ws.close(1008);
        }
        let id = sessionId();
        let secret = randomBytes(16).toString('hex');
        let resumed = false;
        if (register.resume && sessions.get(register.resume.sessionId) === register.resume.resumeSecret) {
          ({ sessionId: id, resumeSecret: secret } = register.resume);
          resumed = true;
        }
        sessions.set(id, secret);
        ws.send(
          JSON.stringify({
            type: 'registered',
            sessionId: id,
            url: `http://${id}.localhost:${port}/`,
            resumeSecret: secret,
            graceMs: 30_000,
            resumed,
            p2p: { enabled: register.p2p, timeoutMs: 5000, iceServers: [] },
          }),
        );
        entry.conn = connectionOverWebSocket(ws, { role: 'client' });
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get upgrades() {
      return upgrades;
    },
    registers,
    connection: () => latest?.conn,
    socket: () => latest?.ws,
    async waitForRegisters(count, timeoutMs = 10_000) {
      if (registers.length >= count) return;
      await waitForEvent(events, 'register', {
        filter: () => registers.length >= count,
        timeoutMs,
        what: `${count} register messages (saw ${registers.length} so far)`,
      });
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
