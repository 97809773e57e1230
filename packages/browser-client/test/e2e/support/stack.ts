/**
 * The whole path under test as real processes: the fixture app, the tunnel
 * server (`wingman-server`, which serves the browser bundle and the shell)
 * and the agent (`wingman http`), all built by `npm run build`.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { killAll, startAgent, startServer, type Proc } from '../../../../../test/helpers/processes';
import { startApp, type FixtureApp } from './app';

/** NODE_OPTIONS that load `files` (preloads beside this module, in order) into the agent and the P2P host it forks. */
function preloadEnv(...files: string[]): Record<string, string> {
  const requires = files.map((file) => {
    const preload = join(__dirname, file);
    if (preload.includes(' ')) throw new Error(`NODE_OPTIONS cannot name ${preload}: its path has a space`);
    return `--require ${preload}`;
  });
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${requires.join(' ')}`.trim() };
}

/**
 * Agent environment that makes P2P slow for bulk: every data channel of the
 * agent's P2P host sends at most `bytesPerS` (throttle-p2p-send.cjs, loaded
 * into the agent's processes with NODE_OPTIONS; small responses still leave at
 * once). The relay keeps loopback speed.
 */
export function throttledP2PAgentEnv(bytesPerS: number): Record<string, string> {
  return { ...preloadEnv('throttle-p2p-send.cjs'), THROTTLE_P2P_SEND_BYTES_PER_S: String(bytesPerS) };
}

/**
 * Agent environment whose P2P host holds every message it sends for `ms`
 * (delay-p2p-send.cjs): P2P then takes longer than the relay to a small
 * response.
 */
export function delayedP2PAgentEnv(ms: number): Record<string, string> {
  return { ...preloadEnv('delay-p2p-send.cjs'), DELAY_P2P_SEND_MS: String(ms) };
}

/** Agent environment whose P2P host makes no loss-probe channel (support/no-loss-echo.cjs): the shell's probe gets no answer. */
export const noLossEchoAgentEnv = (): Record<string, string> => preloadEnv('no-loss-echo.cjs');

/** Agent environment whose P2P host sends a wrong channel-binding proof (support/wrong-bind-proof.cjs): a keyed viewer's binding fails after signaling's MACs passed. */
export const wrongBindProofAgentEnv = (): Record<string, string> => preloadEnv('wrong-bind-proof.cjs');

/** Agent environment whose P2P host echoes probes 1 and 2 late, after probe 8 (support/reordered-loss-echo.cjs): none lost, two out of order. */
export const reorderedLossEchoAgentEnv = (): Record<string, string> => preloadEnv('reordered-loss-echo.cjs');

export interface StackOptions {
  /** Agent flag (false: `--no-p2p`). Default true. */
  agentP2p?: boolean;
  /** Extra tunnel server environment, e.g. { P2P_ENABLED: 'false' }. */
  serverEnv?: Record<string, string>;
  /** Extra agent environment. */
  agentEnv?: Record<string, string>;
  /** Extra `wingman http` arguments, e.g. ['--password', 'x']. */
  agentArgs?: string[];
}

export interface Stack {
  app: FixtureApp;
  server: Proc;
  agent: Proc;
  /** The session origin as a browser uses it: http://<id>.localhost:<port> */
  origin: string;
  /** The link key the agent printed in the link's fragment (`#k=…`). */
  linkKey: string;
  /** The tunnel server's port. */
  serverPort: number;
  sessionId: string;
  close(): Promise<void>;
}

/** GET `path` on 127.0.0.1:port with a Host header; resolves with the status. */
function probe(port: number, host: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const app = await startApp();
  try {
    const { server, port } = await startServer({ LOG_LEVEL: 'warn', ...options.serverEnv });
    const { agent, url, link, sessionId } = await startAgent(`http://localhost:${port}`, String(app.port), options.agentEnv ?? {}, [
      ...(options.agentP2p === false ? ['--no-p2p'] : []),
      ...(options.agentArgs ?? []),
    ]);
    const status = await probe(port, new URL(url).host, '/__wingman/client.js');
    // 401: a password-protected session (the probe carries no credentials); 403: a session shared by link
    // (the default, WINGMAN_PUBLIC=0) or a private one: the probe has no link cookie. The bundle is behind the gate.
    const gated =
      (status === 401 && options.agentArgs?.includes('--password')) ||
      (status === 403 && (options.agentEnv?.WINGMAN_PUBLIC === '0' || options.agentArgs?.includes('--private')));
    if (status !== 200 && !gated) throw new Error(`the tunnel server answers /__wingman/client.js with ${status}: build the browser bundle (npm run build)`);
    return {
      app,
      server,
      agent,
      origin: `http://${sessionId}.localhost:${port}`,
      linkKey: new URL(link).hash.replace(/^#k=/, ''),
      serverPort: port,
      sessionId,
      async close() {
        await killAll();
        await app.close();
      },
    };
  } catch (err) {
    await killAll();
    await app.close();
    throw err;
  }
}

/**
 * Starts the stack and `launch()` (a browser) side by side: each mostly waits on processes of its own. If either
 * fails, the other is closed and the failure thrown.
 */
export async function startStackWith<B extends { close(): Promise<void> }>(launch: () => Promise<B>, options?: StackOptions): Promise<[Stack, B]> {
  const [stack, launched] = await Promise.allSettled([startStack(options), launch()]);
  if (stack.status === 'fulfilled' && launched.status === 'fulfilled') return [stack.value, launched.value];
  if (launched.status === 'fulfilled') await launched.value.close();
  if (stack.status === 'fulfilled') await stack.value.close();
  throw stack.status === 'rejected' ? stack.reason : (launched as PromiseRejectedResult).reason;
}
