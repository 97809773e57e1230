/**
 * A real Vite dev server (from npm) behind the tunnel: the page loads over
 * P2P, and editing a source file on disk hot-updates the open page — Vite's
 * HMR WebSocket runs through the shim over the data channel, and the page is
 * not reloaded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { killAll, ROOT, startAgent, startProcess, startServer, type Proc } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { appFrame, fetchInApp, openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';

jest.setTimeout(120_000);

const VITE_ENTRY = join(ROOT, 'node_modules/vite/dist/node/index.js');

/**
 * Runs Vite in its own process (it is ESM-only; jest's module system is
 * CommonJS). Prints JSON lines: `listening` with the port, and `upgrade` for
 * every WebSocket handshake Vite receives, with the forwarding headers that
 * tell which path it came by. Closes Vite on SIGTERM.
 */
const SERVE_MJS = `
const { createServer } = await import(process.env.VITE_ENTRY);
const root = process.argv[2];
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'silent',
  clearScreen: false,
  optimizeDeps: { noDiscovery: true, include: [] },
  server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: true },
  plugins: [{
    name: 'record-upgrades',
    configureServer(s) {
      s.httpServer.on('upgrade', (req) => console.log(JSON.stringify({
        event: 'upgrade', url: req.url, protocol: req.headers['sec-websocket-protocol'] ?? null,
        forwardedFor: req.headers['x-forwarded-for'] ?? null, forwardedHost: req.headers['x-forwarded-host'] ?? null,
      })));
    },
  }],
});
await server.listen();
console.log(JSON.stringify({ event: 'listening', port: server.httpServer.address().port }));
process.on('SIGTERM', () => { server.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 3000).unref(); });
`;

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>vite fixture</title></head>
<body><div id="msg"></div>
<script>window.pageName = 'vite';</script>
<script type="module" src="/main.js"></script>
</body></html>`;

const MAIN_JS = `import { msg } from './msg.js';
const show = (text) => { document.getElementById('msg').textContent = text; };
show(msg);
if (import.meta.hot) import.meta.hot.accept('./msg.js', (mod) => { if (mod) show(mod.msg); });
`;

const msgJs = (text: string) => `export const msg = ${JSON.stringify(text)};\n`;

describe('Vite dev server with HMR through the tunnel over P2P', () => {
  let dir: string;
  let vite: Proc;
  let browser: LaunchedChromium | undefined;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wingman-vite-'));
    writeFileSync(join(dir, 'index.html'), INDEX_HTML);
    writeFileSync(join(dir, 'main.js'), MAIN_JS);
    writeFileSync(join(dir, 'msg.js'), msgJs('first'));
    const serve = join(dir, 'serve.mjs');
    writeFileSync(serve, SERVE_MJS);
    try {
      vite = startProcess(serve, [dir], { VITE_ENTRY: pathToFileURL(VITE_ENTRY).href });
    } catch (err) {
      throw new Error(`could not start Vite (${(err as Error).message}); install it with \`npm ci\` at the repository root`);
    }
    const { port: vitePort } = await vite.waitFor((e) => e.event === 'listening', 30_000);
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const { sessionId } = await startAgent(`http://localhost:${port}`, `127.0.0.1:${vitePort}`);
    origin = `http://${sessionId}.localhost:${port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    if (browser) await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
    await killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the first text over P2P, then hot-updates it after a file edit without reloading', async () => {
    const page = browser!.page;
    await openShell(page, `${origin}/`, 'vite');
    await waitForTransport(page, 'p2p');
    // The first document may have loaded (and opened its HMR socket) before the channel was
    // up; an open socket stays on its transport, so load the app again now that P2P is in use.
    const before = vite.events.length;
    const current = appFrame(page);
    await current.goto(`${origin}/`);
    const frame = await waitForApp(page, 'vite');
    await frame.waitForFunction(() => document.getElementById('msg')?.textContent === 'first', undefined, { timeout: WAIT_MS });
    expect((await fetchInApp(frame, '/msg.js')).transport).toBe('p2p');

    const hmr = await vite.waitFor((e) => vite.events.indexOf(e) >= before && e.event === 'upgrade' && e.protocol === 'vite-hmr', WAIT_MS);
    // Through the agent over P2P: the agent sets X-Forwarded-Host and never X-Forwarded-For
    // (the tunnel server adds X-Forwarded-For on the relay path; Vite's direct fallback has neither).
    expect(hmr).toMatchObject({ forwardedFor: null, forwardedHost: new URL(origin).host });
    // A full reload would clear this; a hot update keeps it.
    await frame.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    writeFileSync(join(dir, 'msg.js'), msgJs('second'));
    await frame.waitForFunction(() => document.getElementById('msg')?.textContent === 'second', undefined, { timeout: WAIT_MS });
    // Same document: a hot update, not a reload.
    expect(await frame.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await frame.evaluate(() => !/\[native code\]/.test(String(WebSocket)))).toBe(true);
    expect((await waitForTransport(page, 'p2p')).transport).toBe('p2p');
  });
});
