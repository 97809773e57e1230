/**
 * A real Vite dev server (from npm) behind the tunnel, in Chromium and
 * Firefox over P2P and in WebKit over the Service Worker's relay (it has no
 * WebRTC here): the page renders, an edit to a module on disk is hot-applied
 * to the open page without a reload (its state is kept), and an edit to a
 * stylesheet applies — as in the same browser straight against Vite. Vite's
 * HMR WebSocket runs through the shim (over the data channel, or over the
 * relay), and its module scripts through the Service Worker. Vite runs with
 * its defaults, `server.allowedHosts` included: the app is sent its own Host.
 *
 * The same over HTTPS: Vite with `@vitejs/plugin-basic-ssl` (a self-signed
 * certificate, as developers run it for a secure context) is the target
 * `https://localhost:<port>` with `--target-insecure`; in Chromium over P2P
 * the page and its hot updates (HMR over `wss:` from the agent) are the same
 * as straight against Vite.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { killAll, ROOT, startAgent, startProcess, startServer, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { ENGINES, launchEngine, type LaunchedEngine } from './helpers/engines';
import { fetchInApp, inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';

jest.setTimeout(180_000);

const VITE_ENTRY = join(ROOT, 'node_modules/vite/dist/node/index.js');
const BASIC_SSL_ENTRY = join(ROOT, 'node_modules/@vitejs/plugin-basic-ssl/dist/index.mjs');

/**
 * Runs Vite in its own process (it is ESM-only; jest's module system is
 * CommonJS). Prints JSON lines: `listening` with the port, and `hmr-socket`
 * for every HMR WebSocket Vite takes (from then on it sends it the hot
 * updates), with its number and the forwarding headers that tell which path
 * it came by, and `hmr-socket-closed` with the number when it closes.
 * On a failed wait for a hot update the test prints these beside the agent's
 * requests, and `hot-update` (Vite saw an edit).
 * Closes Vite on SIGTERM. With BASIC_SSL set (the plugin's module URL) Vite
 * serves HTTPS with the plugin's certificate.
 */
const SERVE_MJS = `
const { createServer } = await import(process.env.VITE_ENTRY);
const root = process.argv[2];
const ssl = process.env.BASIC_SSL ? [(await import(process.env.BASIC_SSL)).default()] : [];
const server = await createServer({
  root,
  configFile: false,
  logLevel: 'silent',
  clearScreen: false,
  optimizeDeps: { noDiscovery: true, include: [] },
  server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: true },
  plugins: [...ssl, {
    name: 'record-hmr-sockets',
    configureServer(s) {
      let sockets = 0;
      s.ws.on('connection', (socket, req) => {
        const id = ++sockets;
        console.log(JSON.stringify({
          event: 'hmr-socket', id, url: req.url,
          forwardedFor: req.headers['x-forwarded-for'] ?? null, forwardedHost: req.headers['x-forwarded-host'] ?? null,
        }));
        socket.on('close', (code) => console.log(JSON.stringify({ event: 'hmr-socket-closed', id, code })));
      });
    },
    handleHotUpdate(ctx) {
      console.log(JSON.stringify({ event: 'hot-update', file: ctx.file.split('/').pop(), modules: ctx.modules.length }));
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

const MAIN_JS = `import './style.css';
import { msg } from './msg.js';
const show = (text) => { document.getElementById('msg').textContent = text; };
show(msg);
if (import.meta.hot) import.meta.hot.accept('./msg.js', (mod) => { if (mod) show(mod.msg); });
`;

const msgJs = (text: string) => `export const msg = ${JSON.stringify(text)};\n`;
const styleCss = (color: string) => `#msg { color: ${color}; }\n`;
const COLORS = ['rgb(255, 0, 0)', 'rgb(0, 0, 255)'];

/** What the page shows: its text, the text's colour, the state a reload would clear, and whether WebSocket is Wingman's shim. */
interface HmrView {
  msg: string | null;
  color: string | null;
  marker: number | null;
  shim: boolean;
}

function readView(target: AnyPage | AnyFrame): Promise<HmrView> {
  return inPage(
    target,
    () => {
      const el = document.getElementById('msg');
      return {
        msg: el?.textContent ?? null,
        color: el ? getComputedStyle(el).color : null,
        marker: (window as unknown as { marker?: number }).marker ?? null,
        shim: !/\[native code\]/.test(String(WebSocket)),
      };
    },
    undefined,
  );
}

/** `context`: what else a timeout reports beside the page's view (what Vite and the agent saw). */
async function waitForView(target: AnyPage | AnyFrame, what: string, ok: (v: HmrView) => boolean, context?: () => object): Promise<HmrView> {
  let last: unknown;
  return until(
    async () => {
      last = await readView(target).catch((e: Error) => e.message);
      return typeof last === 'object' && ok(last as HmrView) ? (last as HmrView) : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what, observe: () => (context ? { view: last, ...context() } : last) },
  );
}

/** One Vite dev server in a temporary directory, with its module's and stylesheet's contents as last written. */
interface ViteApp {
  dir: string;
  proc: Proc;
  port: number;
  text: string;
  color: string;
}

async function startVite(options: { basicSsl?: boolean } = {}): Promise<ViteApp> {
  const dir = mkdtempSync(join(tmpdir(), 'wingman-vite-'));
  const app = { dir, text: 'first', color: COLORS[0]! };
  writeFileSync(join(dir, 'index.html'), INDEX_HTML);
  writeFileSync(join(dir, 'main.js'), MAIN_JS);
  writeFileSync(join(dir, 'msg.js'), msgJs(app.text));
  writeFileSync(join(dir, 'style.css'), styleCss(app.color));
  const serve = join(dir, 'serve.mjs');
  writeFileSync(serve, SERVE_MJS);
  let proc: Proc;
  try {
    proc = startProcess(serve, [dir], {
      VITE_ENTRY: pathToFileURL(VITE_ENTRY).href,
      ...(options.basicSsl ? { BASIC_SSL: pathToFileURL(BASIC_SSL_ENTRY).href } : {}),
    });
  } catch (err) {
    throw new Error(`could not start Vite (${(err as Error).message}); install it with \`npm ci\` at the repository root`);
  }
  const port = Number((await proc.waitFor((e) => e.event === 'listening', 30_000)).port);
  return { ...app, proc, port };
}

/**
 * Waits for an HMR socket that Vite took after `mark` (an index into its
 * events). Vite sends a hot update only to the sockets it holds when it sees
 * the edit: one made before the page's socket is up reaches no page, which
 * keeps the old module.
 */
function hmrSocketSince(vite: Proc, mark: number): Promise<unknown> {
  return vite.waitFor((e) => vite.events.indexOf(e) >= mark && e.event === 'hmr-socket', WAIT_MS);
}

/**
 * Waits until, of the HMR sockets Vite took since `since`, one alone is open and
 * Vite took it after `after`: a document that went away closed its socket (1001,
 * as a browser closes its own), so the app serves only the page that is there.
 */
async function onlySocketSince(vite: Proc, since: number, after: number): Promise<void> {
  const open = () => {
    const taken = vite.events.slice(since).filter((e) => e.event === 'hmr-socket');
    const closed = new Set(
      vite.events
        .slice(since)
        .filter((e) => e.event === 'hmr-socket-closed')
        .map((e) => e.id),
    );
    return taken.filter((e) => !closed.has(e.id)).map((e) => ({ id: e.id, index: vite.events.indexOf(e) }));
  };
  await until(() => open().length === 1 && open()[0]!.index >= after, {
    timeoutMs: WAIT_MS,
    what: 'the reloaded document to hold the one open HMR socket',
    observe: () => ({ open: open(), events: vite.events.slice(since).map((e) => [e.event, e.id, e.code]) }),
  });
}

/** Marks the page's state, edits the module and the stylesheet on disk: the hot-applied result, and whether the page kept its state. */
async function editAndWatch(app: ViteApp, target: AnyPage | AnyFrame, label: string, context?: () => object): Promise<HmrView> {
  const shown = await waitForView(target, 'the page to render the module and the stylesheet', (v) => v.msg === app.text && v.color === app.color);
  expect(shown.marker).toBeNull();
  // A full reload would clear this; a hot update keeps it.
  await inPage(target, () => void ((window as unknown as { marker: number }).marker = 42), undefined);
  app.text = `${label} edited`;
  writeFileSync(join(app.dir, 'msg.js'), msgJs(app.text));
  await waitForView(target, 'the module edit to be hot-applied', (v) => v.msg === app.text, context);
  app.color = COLORS[(COLORS.indexOf(app.color) + 1) % COLORS.length]!;
  writeFileSync(join(app.dir, 'style.css'), styleCss(app.color));
  return waitForView(target, 'the stylesheet edit to apply', (v) => v.color === app.color, context);
}

/**
 * In `page`: Vite straight (`direct`), then through the session at `origin`
 * over `transport`; the hot updates must come out the same, over the
 * transport under test, through the HMR socket of the page.
 */
async function hmrAsDirect(
  page: AnyPage,
  app: ViteApp,
  session: { origin: string; agent: Proc },
  direct: string,
  transport: 'p2p' | 'relay',
  engine: string,
): Promise<void> {
  const { origin, agent } = session;
  const vite = app.proc;
  const directDocument = vite.events.length;
  await page.goto(direct);
  // The page's HMR socket may be up only after its load event, which is all goto waits for.
  await hmrSocketSince(vite, directDocument);
  const straight = await editAndWatch(app, page, `${engine} direct`);
  expect(straight).toEqual({ msg: app.text, color: app.color, marker: 42, shim: false });

  const firstDocument = vite.events.length;
  const agentMark = agent.events.length;
  await page.goto(`${origin}/`);
  let frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'vite');
  await waitForTransport(page, transport);
  // The first document may have loaded (and opened its HMR socket) before the channel was
  // up; an open socket stays on its transport, so load the app again now that the shell's transport is settled.
  // Its socket is counted first, so the one awaited below is the reloaded document's (an edit before that is up reaches no page).
  await hmrSocketSince(vite, firstDocument);
  const before = vite.events.length;
  await inPage(frame, () => void ((window as unknown as { marker: number }).marker = 1), undefined);
  await inPage(frame, () => void setTimeout(() => location.reload(), 0), undefined);
  let seen: unknown;
  await until(
    async () => {
      seen = await inPage(
        frame,
        () => ({ marker: (window as unknown as { marker?: number }).marker ?? null, url: location.href, state: document.readyState }),
        undefined,
      ).catch((e: Error) => e.message);
      return typeof seen === 'object' && (seen as { marker: number | null }).marker === null;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the app frame to reload', observe: () => seen },
  );
  frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'vite');
  // With a channel up, the Service Worker may send one small request over the relay by its path
  // choice (a loaded machine can make P2P look slower): ask a few times for one over the transport
  // under test, and print every route seen.
  const routes: string[] = [];
  for (let i = 0; i < 5 && !routes.some((r) => r.startsWith(`${transport} `)); i++) {
    const r = await fetchInApp(frame, '/msg.js');
    routes.push(`${r.transport} (${r.headers['x-wingman-route'] ?? 'no route header'})`);
  }
  expect(routes.find((r) => r.startsWith(`${transport} `)) ?? routes).toEqual(expect.stringMatching(new RegExp(`^${transport} `)));
  // An edit before the reloaded page's HMR socket is up would reach no page: wait for a socket opened since the mark,
  // the only one open of those the frame's documents took.
  await onlySocketSince(vite, firstDocument, before);

  // On a timeout: whether Vite saw the edit, which HMR sockets it took and lost, and the agent's requests (the module's re-import among them).
  const sawMeanwhile = () => ({
    vite: vite.events.slice(before).map((e) => [e.event, e.id ?? e.file, e.code ?? e.url]),
    agent: agent.events
      .slice(agentMark)
      .filter((e) => e.event === 'request')
      .map((e) => [e.method, e.target, e.status, e.transport, e.error])
      .slice(-10),
  });
  const tunnelled = await editAndWatch(app, frame, `${engine} through Wingman`, sawMeanwhile);
  expect(tunnelled).toEqual({ ...straight, msg: app.text, color: app.color, shim: true });

  // The hot update above came through the reloaded page's HMR socket, the last one opened.
  const hmr = vite.events.filter((e, i) => i >= before && e.event === 'hmr-socket').at(-1);
  // Over P2P the agent sets X-Forwarded-Host and never X-Forwarded-For; on the relay the tunnel server adds X-Forwarded-For
  // (Vite's direct fallback socket has neither).
  expect(hmr).toMatchObject(
    transport === 'p2p'
      ? { forwardedFor: null, forwardedHost: new URL(origin).host }
      : { forwardedFor: expect.any(String), forwardedHost: new URL(origin).host },
  );
  expect((await waitForTransport(page, transport)).transport).toBe(transport);
}

describe('Vite dev server with HMR through the tunnel', () => {
  let app: ViteApp | undefined;
  let session: { origin: string; agent: Proc };

  beforeAll(async () => {
    app = await startVite();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const { agent, sessionId } = await startAgent(`http://localhost:${port}`, `127.0.0.1:${app.port}`);
    session = { origin: `http://${sessionId}.localhost:${port}`, agent };
  });

  afterAll(async () => {
    await killAll();
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  describe.each(ENGINES)('in %s', (engine, transport) => {
    let browser: LaunchedEngine | undefined;
    afterAll(async () => {
      await browser?.close();
    });

    it(`renders, hot-applies a module edit keeping the page's state and applies a stylesheet edit, as direct, over ${transport === 'p2p' ? 'P2P' : 'the relay'}`, async () => {
      browser = await launchEngine(engine);
      await hmrAsDirect(browser.page, app!, session, `http://127.0.0.1:${app!.port}/`, transport, engine);
    });
  });
});

describe('Vite over HTTPS (@vitejs/plugin-basic-ssl) as an https target', () => {
  let app: ViteApp | undefined;
  let origin: string;
  let agent: Proc;
  let browser: LaunchedChromium | undefined;

  beforeAll(async () => {
    app = await startVite({ basicSsl: true });
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const started = await startAgent(`http://localhost:${port}`, `https://localhost:${app.port}`, {}, ['--target-insecure']);
    agent = started.agent;
    origin = `http://${started.sessionId}.localhost:${port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await killAll();
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  it('renders and hot-applies edits in Chromium over P2P as straight against Vite over HTTPS', async () => {
    // The plugin's certificate is self-signed: the direct reference accepts it, as the developer clicks through it.
    browser = await launchChromium({ extraArgs: ['--ignore-certificate-errors'] });
    const logged = agent.events.length;
    await hmrAsDirect(browser.page, app!, { origin, agent }, `https://localhost:${app!.port}/`, 'p2p', 'Chromium');
    // The agent spoke TLS to Vite: its HMR socket's handshake went as wss and came back 101 over P2P.
    expect(agent.events.slice(logged).filter((e) => e.event === 'request' && e.status === 101 && e.transport === 'p2p').length).toBeGreaterThan(0);
  });
});
