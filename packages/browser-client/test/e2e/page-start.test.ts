/**
 * A page load with P2P impossible in the browser (no RTCPeerConnection, as
 * when UDP is blocked): Wingman's own start-up work — the shell, the
 * Service Worker, a first visit's early document — must never hold the
 * app's documents, and the app sees each document's GET once. The first
 * visits hold one request at the app or at the browser and check what was
 * already under way meanwhile.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForApp, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

/** How long the app holds a document at most: far beyond a loopback page load, so a shell that waits for it shows. */
const HOLD_MS = 6_000;

/** The app frame's document responses from now on: whether each came through the Service Worker. */
function recordFrameDocuments(page: Page): Array<{ fromServiceWorker: boolean }> {
  const docs: Array<{ fromServiceWorker: boolean }> = [];
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.frame() !== page.mainFrame()) docs.push({ fromServiceWorker: res.fromServiceWorker() });
  });
  return docs;
}

describe('page start with P2P impossible in the browser', () => {
  let stack: Stack;

  /**
   * Holds the browser's requests matching `pattern` until the app saw a
   * request for `path` (at most HOLD_MS). The result says whether it did
   * while they were held (undefined until one was held).
   */
  async function holdUntilAppSaw(context: BrowserContext, pattern: string, path: string): Promise<() => boolean | undefined> {
    let saw: boolean | undefined;
    await context.route(pattern, async (route) => {
      saw = await until(() => stack.app.requests.some((r) => r.path === path) || undefined, {
        timeoutMs: HOLD_MS,
        intervalMs: 20,
        what: `the app's request for ${path}`,
      }).catch(() => false);
      await route.continue();
    });
    return () => saw;
  }

  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
  });

  beforeEach(async () => {
    browser = await launchChromium();
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
  });

  afterEach(async () => {
    await browser?.close();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it.each([
    ['running', false],
    ['stopped', true],
  ])('reloads with the Service Worker %s: the frame fetches its document through it, and the app sees that GET once', async (_state, stop) => {
    const { context, page } = browser;
    const path = `/two?reload=${stop ? 'stopped' : 'running'}`;
    await openShell(page, `${stack.origin}${path}`, 'two');
    const before = stack.app.requests.length;
    if (stop) {
      // What Chromium does to an idle Service Worker after ~30 s.
      const cdp = await context.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await cdp.detach();
    }
    const frameDocs = recordFrameDocuments(page);

    const shell = await page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
    await waitForApp(page, 'two');

    // The tunnel server sent the shell (gzipped, as a response the Service Worker builds is not; Chromium flags a
    // navigation that a worker started for it left to the network as from the worker), and the frame's navigation
    // went through the Service Worker to the app once.
    expect(shell?.headers()['content-encoding']).toBe('gzip');
    expect(frameDocs).toEqual([{ fromServiceWorker: true }]);
    expect(stack.app.requests.slice(before).filter((r) => r.path === path)).toHaveLength(1);
  });

  it("on a first visit, registers the Service Worker and starts the app's document through it while the shell's script is still loading", async () => {
    const { context, page } = browser;
    const path = '/one?first=visit';
    const frameDocs = recordFrameDocuments(page);
    // client.js (the shell's script) is held at the browser until the app saw the frame's document request.
    const docStartedMeanwhile = await holdUntilAppSaw(context, '**/__wingman/client.js', path);

    const frame = await openShell(page, `${stack.origin}${path}`, 'one');

    expect(docStartedMeanwhile()).toBe(true);
    // Through the Service Worker (its cookie jar), with the shim in the app's document.
    expect(frameDocs).toEqual([{ fromServiceWorker: true }]);
    expect(await frame.evaluate(() => (window as unknown as { wsIsShim: boolean }).wsIsShim)).toBe(true);
  });

  it("on a first visit, fetches the app's document while the Service Worker is still being installed, and shows it through the Service Worker", async () => {
    const { context, page } = browser;
    const path = '/two?first=early';
    const frameDocs = recordFrameDocuments(page);
    // The Service Worker's script is held at the browser until the app saw the document request.
    const docStartedMeanwhile = await holdUntilAppSaw(context, '**/__wingman/sw.js', path);
    const before = stack.app.requests.length;

    await openShell(page, `${stack.origin}${path}`, 'two');

    expect(docStartedMeanwhile()).toBe(true);
    expect(frameDocs).toEqual([{ fromServiceWorker: true }]);
    // One GET of the document: the frame took the one fetched early.
    expect(stack.app.requests.slice(before).filter((r) => r.path === path)).toHaveLength(1);
  });

  it("on a first visit whose Service Worker took control only after the frame started without it, a reload gets the app's document anew", async () => {
    const { context, page } = browser;
    const path = '/two?first=late-worker';
    const frameDocs = recordFrameDocuments(page);
    // The Service Worker's script is held until the frame has loaded without it (the shell waits SW_CONTROL_TIMEOUT_MS, 5 s).
    await context.route('**/__wingman/sw.js', async (route) => {
      await until(() => frameDocs.length > 0 || undefined, {
        timeoutMs: HOLD_MS + 5_000,
        intervalMs: 20,
        what: 'the frame to load without the Service Worker',
      }).catch(() => undefined);
      await route.continue();
    });
    await openShell(page, `${stack.origin}${path}`, 'two');
    expect(frameDocs).toEqual([{ fromServiceWorker: false }]);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: WAIT_MS });
    const before = stack.app.requests.filter((r) => r.path === path).length;

    await page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
    await waitForApp(page, 'two');

    // The frame's document came through the Service Worker from the app, not the document the first visit fetched early.
    expect(frameDocs).toEqual([{ fromServiceWorker: false }, { fromServiceWorker: true }]);
    expect(stack.app.requests.filter((r) => r.path === path).length - before).toBe(1);
  });

  it("keeps the cookies of a first visit's document in the Service Worker's jar: HttpOnly ones never reach the browser's", async () => {
    const { context, page } = browser;
    const frame = await openShell(page, `${stack.origin}/welcome`, 'welcome');
    const me = await fetchInApp(frame, '/api/me');
    expect(me.status).toBe(200);
    expect(JSON.parse(me.text).cookie).toMatch(/(^|; )visit=[0-9a-f]{16}(;|$)/);
    expect(await frame.evaluate(() => document.cookie)).toBe('seen=1');
    const browserJar = (await context.cookies()).map((c) => c.name);
    expect(browserJar).toContain('seen');
    expect(browserJar).not.toContain('visit');
  });
});
