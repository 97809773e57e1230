/**
 * A real Next.js app (`next dev`, App Router) through Wingman, as a reviewer
 * uses it, in Chromium and Firefox (over P2P) and WebKit (over the relay: no
 * WebRTC here): the page renders in the shell, a `<Link>` click navigates on
 * the client (same document, the shell's address bar follows), and an API
 * route answers a `fetch()` — as straight against `next dev` in the same
 * browser.
 */
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { ENGINES, launchEngine, type EngineName, type LaunchedEngine } from './helpers/engines';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import { compileRoutes, startNext, type NextApp } from './support/next-app';

jest.setTimeout(180_000);

interface Visit {
  before: string;
  after: string;
  /** The page's marker survived the navigation: a client-side one, not a new document. */
  sameDocument: boolean;
  path: string;
  api: { hello: string };
  /** Which path Wingman served the API's answer by (its X-Wingman-Transport header): none straight at the app. */
  transport: string | null;
}

/** In `target` (the app's document): the title, then a click on the link, the title it leads to, and the API's answer. */
async function useApp(target: AnyFrame | AnyPage): Promise<Visit> {
  const title = () => inPage(target, () => document.getElementById('title')?.textContent ?? '', undefined);
  let before = '';
  await until(async () => (before = await title().catch(() => '')) === 'home', {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: 'the home page',
    observe: () => before,
  });
  // Hydrated: from then on the click is a client-side navigation.
  await until(() => inPage(target, () => (window as unknown as { hydrated?: boolean }).hydrated === true, undefined), {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: 'Next.js to hydrate the page',
  });
  await inPage(target, () => ((window as unknown as { marker: number }).marker = 42), undefined);
  await (target as unknown as { click(selector: string): Promise<void> }).click('#to-about');
  let after = '';
  await until(async () => (after = await title().catch(() => '')) === 'about', {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: 'the about page after the click',
    observe: () => after,
  });
  return inPage(
    target,
    async () => {
      const r = await fetch('/api/hello');
      return {
        before: 'home',
        after: document.getElementById('title')?.textContent ?? '',
        sameDocument: (window as unknown as { marker?: number }).marker === 42,
        path: location.pathname,
        api: { hello: ((await r.json()) as { hello: string }).hello },
        transport: r.headers.get('x-wingman-transport'),
      };
    },
    undefined,
  );
}

describe('Next.js (next dev) through Wingman', () => {
  let next: NextApp;
  let origin: string;

  /** Each engine's browser, launched in beforeAll; each describe closes its own once its test ran. */
  const browsers = new Map<EngineName, LaunchedEngine>();

  beforeAll(async () => {
    next = await startNext();
    // Independent of each other, so started at once, each kept as it comes (afterAll closes what started, whatever
    // failed): next dev's first compile of every route the tests open (it waits for a route's first request, and
    // takes most of this file's time), the tunnel server and agent, and each engine's browser.
    const started = await Promise.allSettled([
      compileRoutes(next, ['/', '/about', '/api/hello']),
      (async () => {
        const { port } = await startServer({ LOG_LEVEL: 'warn' });
        const { sessionId } = await startAgent(`http://localhost:${port}`, `127.0.0.1:${next.port}`);
        origin = `http://${sessionId}.localhost:${port}`;
      })(),
      ...ENGINES.map(([engine]) => launchEngine(engine).then((b) => browsers.set(engine, b))),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  afterAll(async () => {
    for (const b of browsers.values()) await b.close();
    await killAll();
    await next?.close();
  });

  describe.each(ENGINES)('in %s', (engine, transport) => {
    afterAll(async () => {
      await browsers.get(engine)?.close();
    });

    it(`renders, navigates on the client and answers an API route over ${transport}, as straight against next dev`, async () => {
      const page = browsers.get(engine)!.page;
      await page.goto(`http://127.0.0.1:${next.port}/`);
      const direct = await useApp(page);
      expect(direct).toEqual({ before: 'home', after: 'about', sameDocument: true, path: '/about', api: { hello: 'world' }, transport: null });

      await page.goto(`${origin}/`);
      await waitForTransport(page, transport);
      const frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'next');
      expect(await useApp(frame)).toEqual({ ...direct, transport });
      // The shell's address bar follows the client-side navigation.
      await until(async () => (await inPage(page, () => location.pathname, undefined)) === '/about', {
        timeoutMs: WAIT_MS,
        intervalMs: 50,
        what: 'the shell’s URL to follow to /about',
      });
    });
  });
});
