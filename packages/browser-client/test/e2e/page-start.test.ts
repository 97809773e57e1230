/**
 * A page load with P2P impossible in the browser (no RTCPeerConnection, as
 * when UDP is blocked): Wingman's own start-up work — the shell, the
 * Service Worker, the frame document fetched ahead — must never hold the
 * app's documents or the shell itself. Each case holds one request at the
 * app or at the browser and checks what was already under way meanwhile.
 */
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { openShell, waitForApp, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

/** How long the app holds a document at most: far beyond a loopback page load, so a shell that waits for it shows. */
const HOLD_MS = 6_000;

describe('page start with P2P impossible in the browser', () => {
  let stack: Stack;
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

  it("on a first visit, registers the Service Worker and starts the app's document through it while the shell's script is still loading", async () => {
    const { context, page } = browser;
    const path = '/one?first=visit';
    const frameDocs: Array<{ fromServiceWorker: boolean }> = [];
    page.on('response', (res) => {
      if (res.request().isNavigationRequest() && res.frame() !== page.mainFrame()) frameDocs.push({ fromServiceWorker: res.fromServiceWorker() });
    });
    let docStartedMeanwhile: boolean | undefined;
    // client.js (the shell's script) is held at the browser until the app saw the frame's document request.
    await context.route('**/__wingman/client.js', async (route) => {
      docStartedMeanwhile = await until(() => stack.app.requests.some((r) => r.path === path) || undefined, {
        timeoutMs: HOLD_MS,
        intervalMs: 20,
        what: "the app frame's document request",
      }).catch(() => false);
      await route.continue();
    });

    const frame = await openShell(page, `${stack.origin}${path}`, 'one');

    expect(docStartedMeanwhile).toBe(true);
    // Through the Service Worker (its cookie jar), with the shim in the app's document.
    expect(frameDocs).toEqual([{ fromServiceWorker: true }]);
    expect(await frame.evaluate(() => (window as unknown as { wsIsShim: boolean }).wsIsShim)).toBe(true);
  });
});
