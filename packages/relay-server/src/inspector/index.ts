/** The inspector: what the agent's forwarders captured, in memory, on 127.0.0.1 only, for one tunnel or several (`wingman start`). */
import { DEFAULT_RESPONSE_TIMEOUT_MS, routeFor, targetOrigin, type Capture, type CaptureOptions, type ForwardSettings } from '../forward';
import type { ApiContext, TunnelInfo } from './api';
import { replayRequest } from './replay';
import { createRequestStore, type RequestStore } from './store';
import { startInspectorServer } from './server';
import type { ViewerSource } from './viewers-api';
import type { ViewerRoster } from '../viewers/viewer-roster';

export { DEFAULT_INSPECT_PORT } from './server';
export { DEFAULT_INSPECT_HISTORY, MAX_INSPECT_HISTORY } from './store';

interface InspectorOptions {
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
  /** Rejects when no port in range is free. */
  start(): Promise<string>;
  /**
   * Listed in /api/tunnels once its session is set; `name` undefined for
   * `wingman http`'s tunnel. A replay goes where its forwarder would send the
   * path (forward/routes.ts).
   */
  addTunnel(name: string | undefined, route: ForwardSettings): InspectorTunnel;
  close(): Promise<void>;
}

/** `wingman http`'s tunnel: no config-file name can be empty. */
const UNNAMED = '';

export function createInspector(options: InspectorOptions): Inspector {
  const store = createRequestStore(options.history);
  const routes = new Map<string, ForwardSettings>();
  const infos = new Map<string, TunnelInfo>();
  const viewerSources: ViewerSource[] = [];
  let server: Awaited<ReturnType<typeof startInspectorServer>> | undefined;

  function addTunnel(name: string | undefined, route: ForwardSettings): InspectorTunnel {
    routes.set(name ?? UNNAMED, route);
    const tag = name === undefined ? {} : { tunnel: name };
    return {
      capture: { bodyLimitBytes: options.bodyLimitBytes, onCapture: (c: Capture) => store.record(c, tag) },
      setTunnel(info) {
        infos.set(name ?? UNNAMED, { ...(name === undefined ? {} : { name }), ...info, target: targetOrigin(route.target) });
      },
      addViewers(roster) {
        viewerSources.push({ roster, ...tag });
      },
    };
  }

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
        {
          target: mounted?.target ?? route.target,
          hostHeader: route.hostHeader,
          timeoutMs: route.timeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS,
          bodyLimitBytes: options.bodyLimitBytes,
        },
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
    async start() {
      server = await startInspectorServer(options.port, api);
      return server.url;
    },
    addTunnel,
    async close() {
      await server?.close();
      server = undefined;
    },
  };
}
