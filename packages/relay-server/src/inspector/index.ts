/** The inspector: what the agent's forwarders captured, in memory, on 127.0.0.1 only, for one tunnel or several (`wingman start`). */
import {
  DEFAULT_RESPONSE_TIMEOUT_MS,
  routeFor,
  targetOrigin,
  type RouteSpec,
  type Capture,
  type CaptureOptions,
  type HostHeaderMode,
  type Target,
} from '../forward';
import type { ApiContext, TunnelInfo } from './api';
import { replayRequest } from './replay';
import { createRequestStore, type RequestStore } from './store';
import { startInspectorServer } from './server';
import type { ViewerSource } from './viewers-api';
import type { ViewerRoster } from '../viewers/viewer-roster';

export { DEFAULT_INSPECT_PORT } from './server';
export { DEFAULT_INSPECT_HISTORY, MAX_INSPECT_HISTORY } from './store';

/** Its forwarder's target and Host policy. */
export interface InspectorRoute {
  target: Target;
  /** A replay goes where the forwarder would send its path (forward/routes.ts). */
  routes?: readonly RouteSpec[];
  hostHeader: HostHeaderMode;
  timeoutMs: number;
}

interface InspectorOptions extends Partial<InspectorRoute> {
  /** Then the next ones; 0: any free port. */
  port: number;
  bodyLimitBytes: number;
  history: number;
}

export interface InspectorTunnel {
  /** Captures are tagged with the tunnel's name. */
  readonly capture: CaptureOptions;
  /** Once registered (for /api/tunnels). */
  setTunnel(info: Omit<TunnelInfo, 'target' | 'name'>): void;
  addViewers(roster: ViewerRoster): void;
}

export interface Inspector {
  readonly store: RequestStore;
  /** For the unnamed tunnel's forwarders (the P2P host's with its limit). */
  readonly capture: CaptureOptions;
  /** Rejects when no port in range is free. */
  start(): Promise<string>;
  setTunnel(info: Omit<TunnelInfo, 'target' | 'name'>): void;
  /** Listed in /api/tunnels once its session is set. */
  addTunnel(name: string, route: InspectorRoute): InspectorTunnel;
  addViewers(roster: ViewerRoster): void;
  close(): Promise<void>;
}

/** No config-file name can be empty. */
const UNNAMED = '';

export function createInspector(options: InspectorOptions): Inspector {
  const store = createRequestStore(options.history);
  const routes = new Map<string, InspectorRoute>();
  const infos = new Map<string, TunnelInfo>();
  const viewerSources: ViewerSource[] = [];
  let server: Awaited<ReturnType<typeof startInspectorServer>> | undefined;

  function tunnel(name: string, route: InspectorRoute): InspectorTunnel {
    routes.set(name, route);
    const tag = name === UNNAMED ? {} : { tunnel: name };
    return {
      capture: { bodyLimitBytes: options.bodyLimitBytes, onCapture: (c: Capture) => store.record(c, tag) },
      setTunnel(info) {
        infos.set(name, { ...(name === UNNAMED ? {} : { name }), ...info, target: targetOrigin(route.target) });
      },
      addViewers(roster) {
        viewerSources.push({ roster, ...(name === UNNAMED ? {} : { tunnel: name }) });
      },
    };
  }
  const unnamed =
    options.target !== undefined
      ? tunnel(UNNAMED, {
          target: options.target,
          routes: options.routes ?? [],
          hostHeader: options.hostHeader ?? 'rewrite',
          timeoutMs: options.timeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
        })
      : undefined;

  const api: ApiContext = {
    store,
    tunnels: () => [...infos.values()],
    viewers: () => viewerSources,
    async replay(entry, overrides) {
      const route = routes.get(entry.tunnel ?? UNNAMED);
      if (!route) throw new Error(`no route for tunnel ${entry.tunnel ?? '(unnamed)'}`);
      const path = overrides.path ?? entry.target;
      const mounted = routeFor(path, route.routes ?? []);
      const result = await replayRequest(
        {
          method: overrides.method ?? entry.method,
          path,
          headers: overrides.headers ?? entry.requestHeaders,
          body: overrides.body ?? entry.requestBody.data,
        },
        { target: mounted?.target ?? route.target, hostHeader: route.hostHeader, timeoutMs: route.timeoutMs, bodyLimitBytes: options.bodyLimitBytes },
      );
      return store.add(mounted ? { ...result, mount: mounted.prefix } : result, {
        transport: 'replay',
        replayOf: entry.id,
        ...(entry.tunnel !== undefined ? { tunnel: entry.tunnel } : {}),
      });
    },
  };

  return {
    store,
    capture: unnamed?.capture ?? { bodyLimitBytes: options.bodyLimitBytes, onCapture: (c: Capture) => store.record(c) },
    async start() {
      server = await startInspectorServer(options.port, api);
      return server.url;
    },
    setTunnel: (info) => unnamed?.setTunnel(info),
    addTunnel: tunnel,
    addViewers: (roster) => void viewerSources.push({ roster }),
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}
