/** The inspector: what the agent's forwarders captured, in memory, on 127.0.0.1 only, for one tunnel or several (`wingman start`). */
import { DEFAULT_RESPONSE_TIMEOUT_MS, routeFor, targetOrigin, type Capture, type ForwardSettings } from '../forward';
import type { ApiContext, TunnelInfo } from './api';
import { replayRequest } from './replay';
import { createRequestStore } from './store';
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

/** One tunnel's part of the inspector (addTunnel). */
export type InspectorTunnel = ReturnType<ReturnType<typeof createInspector>['addTunnel']>;

/** `wingman http`'s tunnel: no config-file name can be empty. */
const UNNAMED = '';

export function createInspector(options: InspectorOptions) {
  const store = createRequestStore(options.history);
  const routes = new Map<string, ForwardSettings>();
  const infos = new Map<string, TunnelInfo>();
  const viewerSources: ViewerSource[] = [];
  let server: Awaited<ReturnType<typeof startInspectorServer>> | undefined;

  /**
   * Listed in /api/tunnels once its session is set; `name` undefined for
   * `wingman http`'s tunnel. A replay goes where its forwarder would send the
   * path (forward/routes.ts).
   */
  function addTunnel(name: string | undefined, route: ForwardSettings) {
    routes.set(name ?? UNNAMED, route);
    const tag = name === undefined ? {} : { tunnel: name };
    return {
      /** Captures are tagged with the tunnel's name. */
      capture: { bodyLimitBytes: options.bodyLimitBytes, onCapture: (c: Capture) => store.record(c, tag) },
      /** Once registered (for /api/tunnels). */
      setTunnel(info: Omit<TunnelInfo, 'target' | 'name'>) {
        infos.set(name ?? UNNAMED, { ...(name === undefined ? {} : { name }), ...info, target: targetOrigin(route.target) });
      },
      addViewers(roster: ViewerRoster) {
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
    /** Rejects when no port in range is free. */
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
