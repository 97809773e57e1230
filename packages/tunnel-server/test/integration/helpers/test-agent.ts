/**
 * A real agent for tests: a `ws` WebSocket to AGENT_PATH that registers and
 * then serves streams with a real protocol Connection (role 'server'),
 * answering from a handler. Only ever talks to 127.0.0.1.
 */
import {
  AGENT_PATH,
  connectionOverWebSocket,
  parseServerMessage,
  PROTOCOL_VERSION,
  type Connection,
  type RegisteredMessage,
  type ServerToAgentReceived,
  type Stream,
} from '@wingman/protocol';
import WebSocket from 'ws';

export const TEST_TOKEN = 'test-agent-token-0123456789';
const CONNECT_TIMEOUT_MS = 5_000;

export interface TestAgent {
  ws: WebSocket;
  connection: Connection;
  registered: RegisteredMessage;
  sessionId: string;
  /** Host header value of the session: `<id>.localhost:<port>`. */
  host: string;
  /** Closes the socket and waits for it to be closed. */
  close(): Promise<void>;
}

export interface TestAgentOptions {
  token?: string;
  resume?: { sessionId: string; resumeSecret: string };
  p2p?: boolean;
  /** Streams the agent accepts at once (its HELLO). Default the protocol's. */
  maxConcurrentStreams?: number;
  /** Largest WebSocket message the agent packs frames into. Default the protocol's. */
  maxMessageBytes?: number;
  /** The server speaks TLS: connect over wss:// to `localhost`, trusting this CA. */
  tlsCa?: Buffer;
}

const live = new Set<WebSocket>();

/** Opens the agent WebSocket (no register yet); `token` null sends no Authorization. Rejects with the HTTP status on a refused upgrade. */
export function openAgentSocket(port: number, token: string | null = TEST_TOKEN, tlsCa?: Buffer): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers = token === null ? {} : { authorization: `Bearer ${token}` };
    const ws = tlsCa
      ? new WebSocket(`wss://localhost:${port}${AGENT_PATH}`, { headers, ca: tlsCa })
      : new WebSocket(`ws://127.0.0.1:${port}${AGENT_PATH}`, { headers });
    live.add(ws);
    ws.on('close', () => live.delete(ws));
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('agent socket did not open in time'));
    }, CONNECT_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body })));
      res.on('error', reject);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Sends `register` and returns the first server message; installs the Connection synchronously on `registered`. */
export function register(
  ws: WebSocket,
  options: TestAgentOptions,
  onStream: (stream: Stream) => void,
): Promise<{ message: ServerToAgentReceived; connection?: Connection }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to register in time')), CONNECT_TIMEOUT_MS);
    const onMessage = (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      ws.off('message', onMessage);
      clearTimeout(timer);
      const message = parseServerMessage(data.toString());
      if (message.type !== 'registered') return resolve({ message });
      // Synchronously: the server's HELLO may be in the same TCP chunk, right behind `registered`.
      const connection = connectionOverWebSocket(ws, {
        role: 'server',
        ...(options.maxConcurrentStreams ? { maxConcurrentStreams: options.maxConcurrentStreams } : {}),
        ...(options.maxMessageBytes ? { maxMessageBytes: options.maxMessageBytes } : {}),
      });
      connection.on('stream', onStream);
      resolve({ message, connection });
    };
    ws.on('message', onMessage);
    ws.send(
      JSON.stringify({
        type: 'register',
        version: PROTOCOL_VERSION,
        p2p: options.p2p ?? false,
        client: 'wingman-test/0',
        ...(options.resume ? { resume: options.resume } : {}),
      }),
    );
  });
}

export async function connectTestAgent(port: number, onStream: (stream: Stream) => void, options: TestAgentOptions = {}): Promise<TestAgent> {
  const ws = await openAgentSocket(port, options.token ?? TEST_TOKEN, options.tlsCa);
  const { message, connection } = await register(ws, options, onStream);
  if (message.type !== 'registered' || !connection) {
    ws.terminate();
    throw new Error(`registration failed: ${JSON.stringify(message)}`);
  }
  return {
    ws,
    connection,
    registered: message,
    sessionId: message.sessionId,
    host: `${message.sessionId}.localhost:${port}`,
    close: () => closeSocket(ws),
  };
}

export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve();
    }, 2_000);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    ws.close();
  });
}

/** Terminates every agent socket a test left open. */
export function closeAllAgents(): void {
  for (const ws of live) ws.terminate();
  live.clear();
}

/** Resolves when `ws` closes (or after `timeoutMs`, rejecting). */
export function waitClosed(ws: WebSocket, timeoutMs = 5_000): Promise<{ code: number }> {
  if (ws.readyState === ws.CLOSED) return Promise.resolve({ code: 1006 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code });
    });
  });
}
