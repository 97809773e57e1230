/**
 * The inspector: what the agent's forwarders captured (relay streams here,
 * P2P streams from the host process over IPC), kept in memory and served on
 * 127.0.0.1 only. Nothing captured ever leaves this machine.
 */
import { formatHostPort, type Capture, type CaptureOptions, type HostHeaderMode, type Target } from '../forward';
import type { ApiContext, TunnelInfo } from './api';
import { replayRequest } from './replay';
import { createRequestStore, type RequestStore } from './store';
import { startInspectorServer } from './server';

export { DEFAULT_INSPECT_PORT, INSPECT_PORT_TRIES } from './server';
export { DEFAULT_INSPECT_HISTORY, MAX_INSPECT_HISTORY } from './store';

export interface InspectorOptions {
  /** First port tried (then the next ones); 0: any free port. */
  port: number;
  /** Bytes kept per body. */
  bodyLimitBytes: number;
  /** Exchanges kept. */
  history: number;
  /** Where replays go: the forwarder's target and Host policy. */
  target: Target;
  hostHeader: HostHeaderMode;
  timeoutMs: number;
}

export interface Inspector {
  readonly store: RequestStore;
  /** Give these to the forwarders (the agent's and, with its limit, the P2P host's). */
  readonly capture: CaptureOptions;
  /** Starts the server; resolves with its URL. Rejects when no port in range is free. */
  start(): Promise<string>;
  /** The session, once the tunnel server registered it (for /api/tunnels). */
  setTunnel(info: Omit<TunnelInfo, 'target'>): void;
  close(): Promise<void>;
}

export function createInspector(options: InspectorOptions): Inspector {
  const store = createRequestStore(options.history);
  const target = `http://${formatHostPort(options.target)}`;
  let tunnel: TunnelInfo | undefined;
  let server: Awaited<ReturnType<typeof startInspectorServer>> | undefined;
  const capture: CaptureOptions = { bodyLimitBytes: options.bodyLimitBytes, onCapture: (c: Capture) => void store.add(c) };

  const api: ApiContext = {
    store,
    tunnels: () => (tunnel ? [tunnel] : []),
    async replay(entry, overrides) {
      const result = await replayRequest(
        {
          method: overrides.method ?? entry.method,
          path: overrides.path ?? entry.target,
          headers: overrides.headers ?? entry.requestHeaders,
          body: overrides.body ?? entry.requestBody.data,
        },
        { target: options.target, hostHeader: options.hostHeader, timeoutMs: options.timeoutMs, bodyLimitBytes: options.bodyLimitBytes },
      );
      return store.add(result, { transport: 'replay', replayOf: entry.id });
    },
  };

  return {
    store,
    capture,
    async start() {
      server = await startInspectorServer(options.port, api);
      return server.url;
    },
    setTunnel(info) {
      tunnel = { ...info, target };
    },
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}
