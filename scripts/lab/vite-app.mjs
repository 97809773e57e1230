#!/usr/bin/env node
/**
 * The lab's Vite React dev server, run in the dev namespace:
 *   vite-app.mjs <json>   { dir, host, port }
 * Serves the app generated in `dir` (vite-app-source.mjs) with
 * @vitejs/plugin-react (Fast Refresh: an edited component hot-updates) and
 * the lab routes (lab-routes.mjs) as a middleware. Before it reports
 * {"event":"listening","port":N} it requests every module once, as the
 * developer's own browser tab would have: React pre-bundled, every module
 * transformed, so each reviewer's cold visit meets the same warm server.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { createServer } from 'vite';
import { handleLabRoute } from './lab-routes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Modules the warm-up may fetch: the app has ~330; this bounds a loop on a bad import graph. */
const MAX_WARMUP_MODULES = 2_000;
/** One warm-up request on loopback; the first ones wait for React's pre-bundling (a few seconds on a loaded machine). */
const WARMUP_REQUEST_TIMEOUT_MS = 60_000;

const config = JSON.parse(process.argv[2] ?? '');
if (typeof config.dir !== 'string' || typeof config.host !== 'string' || !Number.isInteger(config.port))
  throw new Error('usage: vite-app.mjs {"dir":…,"host":…,"port":…}');

const server = await createServer({
  root: config.dir,
  configFile: false,
  cacheDir: join(config.dir, '.vite'),
  logLevel: 'warn',
  clearScreen: false,
  plugins: [
    react(),
    {
      name: 'wingman-lab-routes',
      configureServer(s) {
        s.middlewares.use((req, res, next) => {
          if (!handleLabRoute(req, res)) next();
        });
      },
    },
  ],
  optimizeDeps: { include: ['react', 'react-dom/client', 'react/jsx-dev-runtime'], noDiscovery: true },
  server: { host: config.host, port: config.port, strictPort: true, fs: { allow: [config.dir, ROOT] } },
});
await server.listen();
const base = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`;
const warmed = await warmUp(base);
process.stdout.write(`${JSON.stringify({ event: 'listening', port: config.port, warmedModules: warmed })}\n`);

const stop = () => {
  setTimeout(() => process.exit(0), 3_000).unref();
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** Fetches the page and, breadth first, every same-origin module it imports; returns how many. */
async function warmUp(origin) {
  const html = await get(`${origin}/`);
  const queue = [...importsOf(html, `${origin}/`)];
  const seen = new Set(queue);
  let count = 0;
  while (queue.length > 0 && count < MAX_WARMUP_MODULES) {
    const url = /** @type {string} */ (queue.shift());
    count++;
    const text = await get(url);
    // Pre-bundled dependencies (React) are fetched, not parsed: their minified code is not an import graph.
    if (new URL(url).pathname.includes('/.vite/deps/')) continue;
    for (const next of importsOf(text, url)) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return count;

  async function get(url) {
    const r = await fetch(url, { signal: AbortSignal.timeout(WARMUP_REQUEST_TIMEOUT_MS) });
    if (!r.ok) throw new Error(`warm-up: ${url} answered ${r.status}`);
    return r.text();
  }
  /** Module specifiers in `import … from "x"`, `import "x"`, `import("x")` and `<script src="x">`, resolved, same origin only. */
  function importsOf(text, from) {
    const out = [];
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|<script[^>]*\bsrc=)["']([^"']+)["']/g)) {
      // Only real specifiers: minified pre-bundled code has strings after `from` too.
      if (!/^(\/|\.\.?\/)/.test(m[1])) continue;
      const url = new URL(m[1], from);
      if (url.origin === origin) out.push(url.href);
    }
    return out;
  }
}
