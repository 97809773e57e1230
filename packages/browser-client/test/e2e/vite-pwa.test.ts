/**
 * A real Vite PWA (`vite-plugin-pwa` with `devOptions.enabled`, on Vite's
 * dev server) through Wingman, in Chromium and Firefox (where P2P is
 * available) and in WebKit (no WebRTC: the shell is on the relay): Wingman
 * steps aside for that browser, and the app's own Service Worker registers
 * and controls its pages as it does straight against Vite in the same
 * browser — the same controller and `ready` registration, no other worker,
 * the same caches, the runtime-cached API answered from its cache, and `/`
 * answered from its precache without reaching the app. Through Wingman the
 * browser is then served over the relay, without Wingman's cookies reaching
 * the app or its scripts, and the agent says why (`--json`: a warning event
 * naming the viewer and the worker).
 */
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { ENGINES, launchEngine, type LaunchedEngine } from './helpers/engines';
import { inPage, WAIT_MS, type AnyPage } from './support/shell';
import { DEV_SW_PATH, PWA_API_CACHE, PWA_API_PATH, startVitePwa, type PwaRequest, type VitePwaApp } from './support/vite-pwa';

jest.setTimeout(180_000);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What the top-level page shows once the app's worker controls it; URLs relative to the page's origin. */
interface PwaView {
  msg: string | null;
  controller: string | null;
  ready: string | null;
  scope: string | null;
  registrations: Array<string | null>;
  caches: string[];
  cookie: string;
}

/** The app's page at the top level (not in Wingman's shell), controlled by a worker, its module script run. */
async function waitForControlledApp(page: AnyPage): Promise<void> {
  let last: unknown;
  await until(
    async () => {
      last = await inPage(
        page,
        () => ({
          pageName: (window as unknown as { pageName?: string }).pageName ?? null,
          shell: (window as unknown as { __wingman?: unknown }).__wingman !== undefined,
          controller: navigator.serviceWorker?.controller?.scriptURL ?? null,
          msg: document.getElementById('msg')?.textContent ?? '',
          url: location.href,
        }),
        undefined,
      ).catch((e: Error) => e.message);
      const s = last as { pageName?: string; shell?: boolean; controller?: string | null; msg?: string };
      return s.pageName === 'vite-pwa' && s.shell === false && !!s.controller && s.msg !== '';
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the PWA at the top level, controlled by its own worker', observe: () => last },
  );
}

function readView(page: AnyPage): Promise<PwaView> {
  return inPage(
    page,
    async () => {
      const rel = (u: string | null | undefined) => (u ? u.replace(location.origin, '') : null);
      const registration = await navigator.serviceWorker.ready;
      return {
        msg: document.getElementById('msg')?.textContent ?? null,
        controller: rel(navigator.serviceWorker.controller?.scriptURL),
        ready: rel(registration.active?.scriptURL),
        scope: rel(registration.scope),
        registrations: (await navigator.serviceWorker.getRegistrations()).map((r) => rel((r.active ?? r.waiting ?? r.installing)?.scriptURL)),
        caches: (await caches.keys()).map((k) => k.replace(location.origin, '<origin>')).sort(),
        cookie: document.cookie,
      };
    },
    undefined,
  );
}

/** Fetches the runtime-cached API twice (the second once the first is in the app's cache): whether both answers are the same one. */
function apiTwice(page: AnyPage): Promise<{ sameAnswer: boolean; cached: boolean }> {
  return inPage(
    page,
    async ({ path, cacheName }) => {
      const first = (await (await fetch(path)).json()) as { served: number };
      let cached = false;
      for (let i = 0; i < 200 && !cached; i++) {
        cached = (await caches.match(path, { cacheName })) !== undefined;
        if (!cached) await new Promise((r) => setTimeout(r, 50));
      }
      const second = (await (await fetch(path)).json()) as { served: number };
      return { sameAnswer: first.served === second.served, cached };
    },
    { path: PWA_API_PATH, cacheName: PWA_API_CACHE },
  );
}

interface Run {
  view: PwaView;
  api: { sameAnswer: boolean; cached: boolean };
  /** Requests for the API that reached Vite (the first fetch; the second came from the cache). */
  apiReached: PwaRequest[];
  /** Navigations to `/` that reached Vite on a second visit (none: the precache answers). */
  revisitReached: PwaRequest[];
  /** Everything Vite received during the run. */
  reached: PwaRequest[];
}

/** Opens the PWA at `base`, then uses it as a reviewer would: what the page shows and what reached the app. */
async function usePwa(page: AnyPage, app: VitePwaApp, base: string): Promise<Run> {
  const start = app.requests().length;
  await page.goto(`${base}/`);
  await waitForControlledApp(page);
  const view = await readView(page);
  const beforeApi = app.requests().length;
  const api = await apiTwice(page);
  const apiReached = app
    .requests()
    .slice(beforeApi)
    .filter((r) => r.url === PWA_API_PATH);
  const beforeRevisit = app.requests().length;
  await page.goto(`${base}/`);
  await waitForControlledApp(page);
  const revisitReached = app
    .requests()
    .slice(beforeRevisit)
    .filter((r) => r.mode === 'navigate');
  return { view: { ...view, caches: (await readView(page)).caches }, api, apiReached, revisitReached, reached: app.requests().slice(start) };
}

describe('a Vite PWA (vite-plugin-pwa, dev server) through Wingman', () => {
  let app: VitePwaApp;
  let agent: Proc;
  let origin: string;

  beforeAll(async () => {
    app = await startVitePwa();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const started = await startAgent(`http://localhost:${port}`, `127.0.0.1:${app.port}`);
    agent = started.agent;
    origin = `http://${started.sessionId}.localhost:${port}`;
  });

  afterAll(async () => {
    await killAll();
    await app?.close();
  });

  /** The agent's `--json` warnings that a viewer's app runs its own worker (stderr: warnings). */
  const ownSwWarnings = () =>
    agent
      .stderr()
      .split('\n')
      .filter((l) => l.includes('WARN_VIEWER_OWN_SW'))
      .map((l) => JSON.parse(l) as { event: string; code: string; message: string; viewer?: string });

  /** Runs the PWA direct, then through Wingman, in `page`; asserts the two agree and what Wingman did. */
  async function directThenWingman(page: AnyPage): Promise<void> {
    const direct = await usePwa(page, app, `http://127.0.0.1:${app.port}`);
    expect(direct.view).toMatchObject({ msg: 'hello from the PWA', controller: DEV_SW_PATH, ready: DEV_SW_PATH, scope: '/', registrations: [DEV_SW_PATH] });
    expect(direct.api).toEqual({ sameAnswer: true, cached: true });
    expect(direct.apiReached).toHaveLength(1);
    expect(direct.revisitReached).toEqual([]);

    const warned = ownSwWarnings().length;
    const tunnelled = await usePwa(page, app, origin);
    expect(tunnelled.view).toEqual(direct.view);
    expect(tunnelled.api).toEqual(direct.api);
    expect(tunnelled.apiReached).toHaveLength(1);
    expect(tunnelled.revisitReached).toEqual([]);
    // Served over the relay (the tunnel server adds X-Forwarded-For; the agent's P2P path does not),
    // and Wingman's cookies never reach the app.
    expect(tunnelled.apiReached[0]!.forwardedFor).not.toBeNull();
    expect(tunnelled.reached.filter((r) => /wingman/i.test(r.cookie ?? ''))).toEqual([]);
    // The developer is told why this browser left P2P.
    await until(() => ownSwWarnings().length > warned, { timeoutMs: WAIT_MS, intervalMs: 50, what: "the agent's WARN_VIEWER_OWN_SW warning" });
    // It names the viewer (`viewer`: its id; the message: its short id) and the worker.
    const warning = ownSwWarnings().at(-1)!;
    expect(warning).toMatchObject({ event: 'warning', code: 'WARN_VIEWER_OWN_SW', viewer: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(warning.message).toMatch(
      new RegExp(`^viewer ${warning.viewer!.slice(0, 8)}: its app registered its own Service Worker \\(${escapeRegExp(DEV_SW_PATH)}\\)`),
    );
  }

  describe.each(ENGINES)('in %s', (engine) => {
    let browser: LaunchedEngine | undefined;
    afterAll(async () => {
      await browser?.close();
    });

    it('registers and controls the app’s pages, caches and precaches as it does direct', async () => {
      browser = await launchEngine(engine);
      await directThenWingman(browser.page);
    });
  });
});
