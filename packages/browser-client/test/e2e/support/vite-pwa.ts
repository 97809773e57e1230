/**
 * A real Vite PWA as the developer's app: Vite's dev server (from npm) with
 * `vite-plugin-pwa` and `devOptions.enabled`, so the dev server serves a
 * Workbox Service Worker (`/dev-sw.js?dev-sw`) that precaches index.html
 * (navigations to `/` are answered from that precache) and keeps
 * `/api/time` in a runtime cache (CacheFirst). Every request Vite receives
 * is printed as a JSON line, with the headers that tell which path it came
 * by and the cookies it carried.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, startProcess, type Proc } from '../../../../../test/helpers/processes';
import { startInTempDir } from './temp-dir-app';

const VITE_ENTRY = join(ROOT, 'node_modules/vite/dist/node/index.js');
const PWA_ENTRY = join(ROOT, 'node_modules/vite-plugin-pwa/dist/index.js');

/** Vite and the plugin's first Service Worker build (workbox-build, done before `listening`) take ~3–8 s here; 60 s covers a loaded CI machine. */
const VITE_PWA_START_TIMEOUT_MS = 60_000;

/** The app's worker as vite-plugin-pwa registers it in dev (its script URL, relative to the origin). */
export const DEV_SW_PATH = '/dev-sw.js?dev-sw';

/** The runtime-cached API route, and the Workbox cache it lives in. */
export const PWA_API_PATH = '/api/time';
export const PWA_API_CACHE = 'api-time';

/**
 * Runs Vite in its own process (ESM-only; jest's module system is
 * CommonJS). Prints `listening` with the port, and `request` for each
 * request. `/api/time` answers a counter, so a cached answer is told from a
 * fresh one. Closes Vite on SIGTERM.
 */
const SERVE_MJS = `
const { createServer } = await import(process.env.VITE_ENTRY);
const { VitePWA } = await import(process.env.PWA_ENTRY);
const root = process.argv[2];
let served = 0;
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'silent',
  clearScreen: false,
  optimizeDeps: { noDiscovery: true, include: [] },
  server: { host: '127.0.0.1', port: 0, strictPort: false },
  plugins: [
    {
      name: 'record-requests',
      configureServer(s) {
        s.middlewares.use((req, res, next) => {
          console.log(JSON.stringify({
            event: 'request', url: req.url, cookie: req.headers.cookie ?? null,
            forwardedFor: req.headers['x-forwarded-for'] ?? null, mode: req.headers['sec-fetch-mode'] ?? null,
          }));
          if (req.url !== '${PWA_API_PATH}') return next();
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ served: ++served }));
        });
      },
    },
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: 'script',
      devOptions: { enabled: true },
      manifest: { name: 'Wingman PWA fixture', short_name: 'pwa', start_url: '/', display: 'standalone', icons: [] },
      workbox: {
        clientsClaim: true,
        skipWaiting: true,
        runtimeCaching: [{ urlPattern: ({ url }) => url.pathname === '${PWA_API_PATH}', handler: 'CacheFirst', options: { cacheName: '${PWA_API_CACHE}' } }],
      },
    }),
  ],
});
await server.listen();
const port = server.httpServer.address().port;
// The plugin builds its dev worker (workbox-build) on the first request for it: seconds of CPU, more on a
// loaded machine. Built here, it is part of the start-up, not of a page's wait for its worker to take control.
const sw = await fetch('http://127.0.0.1:' + port + '${DEV_SW_PATH}');
if (!sw.ok) throw new Error('the dev worker did not build: ' + sw.status + ' ' + (await sw.text()));
await sw.arrayBuffer();
console.log(JSON.stringify({ event: 'listening', port }));
process.on('SIGTERM', () => { server.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 3000).unref(); });
`;

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>vite pwa fixture</title></head>
<body><div id="msg"></div>
<script>window.pageName = 'vite-pwa';</script>
<script type="module" src="/main.js"></script>
</body></html>`;

const MAIN_JS = `document.getElementById('msg').textContent = 'hello from the PWA';\n`;

/** One request as Vite received it. */
export interface PwaRequest {
  url: string;
  cookie: string | null;
  forwardedFor: string | null;
  mode: string | null;
}

export interface VitePwaApp {
  port: number;
  proc: Proc;
  /** Requests Vite received so far, in order. */
  requests(): PwaRequest[];
  close(): Promise<void>;
}

export async function startVitePwa(): Promise<VitePwaApp> {
  const app = await startInTempDir(
    'wingman-vite-pwa-',
    { 'index.html': INDEX_HTML, 'main.js': MAIN_JS, 'serve.mjs': SERVE_MJS },
    (dir) => startProcess(join(dir, 'serve.mjs'), [dir], { VITE_ENTRY: pathToFileURL(VITE_ENTRY).href, PWA_ENTRY: pathToFileURL(PWA_ENTRY).href }),
    (proc) => proc.waitFor((e) => e.event === 'listening', VITE_PWA_START_TIMEOUT_MS),
    { what: 'Vite with vite-plugin-pwa', hint: 'install both with `npm ci` at the repository root' },
  );
  return {
    port: Number(app.ready.port),
    proc: app.proc,
    requests: () => app.proc.events.filter((e) => e.event === 'request') as unknown as PwaRequest[],
    close: () => app.close(),
  };
}
