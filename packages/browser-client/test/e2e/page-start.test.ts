/**
 * A page load with P2P impossible in the browser (no RTCPeerConnection, as
 * when UDP is blocked): Wingman's own start-up work — the shell, the
 * Service Worker, the frame document fetched ahead — must never hold the
 * app's documents or the shell itself. Each case holds one request at the
 * app or at the browser and checks what was already under way meanwhile.
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

  it("serves a reload's shell while the app still holds the document the Service Worker fetched ahead for the frame", async () => {
    const { page } = browser;
    const path = '/two?reload=held';
    await openShell(page, `${stack.origin}${path}`, 'two');
    const before = stack.app.requests.filter((r) => r.path === path).length;

    const held = stack.app.hold(path, HOLD_MS);
    const reload = page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
    // The running Service Worker starts the frame's document as soon as it sees the reload.
    await held.reached;
    await reload;
    const holdingWhenShellCommitted = held.holding;
    held.release();
    await waitForApp(page, 'two');

    expect(holdingWhenShellCommitted).toBe(true);
    // The frame took the document fetched ahead: the app saw the reload's GET once.
    expect(stack.app.requests.filter((r) => r.path === path).length).toBe(before + 1);
  });

  it("starts the frame's document from a reload's navigation also when the Service Worker was stopped", async () => {
    const { context, page } = browser;
    const path = '/two?reload=stopped';
    await openShell(page, `${stack.origin}${path}`, 'two');
    const before = stack.app.requests.length;
    // What Chromium does to an idle Service Worker after ~30 s.
    const cdp = await context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();

    await page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
    await waitForApp(page, 'two');

    // One GET of the document, with the top-level navigation's headers: the SW, started by the navigation,
    // fetched it ahead (the frame's own request would name the shell as its Referer).
    expect(stack.app.requests.slice(before).filter((r) => r.path === path)).toEqual([expect.objectContaining({ referer: undefined })]);
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
