/**
 * The Service Worker's copy of the shell (sw/shell-copy.ts): a top-level
 * navigation the running SW sees is answered from it, with no round trip to
 * the tunnel server before the frame starts, also while a direct channel is
 * up (the frame's document fetched ahead goes over the relay, not through the
 * page being left, so the app sees it once); a
 * copy the server no longer stands behind is dropped, and the next navigation
 * gets the server's answer. With the worker stopped, a reload is answered
 * from the copy kept in Cache Storage by the worker's static route
 * (sw/shell-route.ts), without starting it, while that copy lasts.
 */
import type { BrowserContext, Page, Response } from 'playwright-core';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';
import { SHELL_ROUTE_CACHE } from '../../src/sw/shell-route';

jest.setTimeout(90_000);

/** What the SW's store holds under the copy's key: 'kept', 'none', or 'no-store' before the SW made its database. */
function readCopy(page: Page): Promise<'kept' | 'none' | 'no-store'> {
  return page.evaluate(async () => {
    // Opening a database that does not exist would create it without the SW's store: look first.
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes('wingman')) return 'no-store' as const;
    return new Promise<'kept' | 'none' | 'no-store'>((resolve, reject) => {
      const open = indexedDB.open('wingman');
      open.onerror = () => reject(open.error ?? new Error('open failed'));
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains('kv')) return (db.close(), resolve('no-store'));
        const get = db.transaction('kv').objectStore('kv').get('shell-copy');
        get.onerror = () => (db.close(), reject(get.error ?? new Error('get failed')));
        get.onsuccess = () => {
          db.close();
          const v = get.result as { html?: unknown } | null | undefined;
          resolve(v && typeof v.html === 'string' && v.html.includes('wingman-config') ? 'kept' : 'none');
        };
      };
    });
  });
}

function waitForCopy(page: Page, state: 'kept' | 'none'): Promise<unknown> {
  return until(async () => ((await readCopy(page)) === state ? true : undefined), { timeoutMs: WAIT_MS, intervalMs: 50, what: `shell copy ${state}` });
}

/** Whether the static route's cache holds the shell under the page's URL (not creating the cache when it does not exist). */
function routeHolds(page: Page): Promise<boolean> {
  return page.evaluate(async (name) => (await caches.has(name)) && (await (await caches.open(name)).match(location.href)) !== undefined, SHELL_ROUTE_CACHE);
}

function waitForRoute(page: Page, holds: boolean): Promise<unknown> {
  return until(async () => ((await routeHolds(page)) === holds ? true : undefined), {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: `shell route ${holds ? 'kept' : 'empty'}`,
  });
}

/** What Chromium does to an idle Service Worker after ~30 s. */
async function stopWorkers(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await cdp.detach();
}

/**
 * Stops the page's workers and reloads; again, at most twice more, when the worker ran for that
 * navigation all the same (the page woke it between the stop and the reload: documentSource is
 * then ''). `beforeReload` runs before each reload.
 */
async function reloadWorkerStopped(context: BrowserContext, page: Page, beforeReload: () => void = () => undefined): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    await stopWorkers(context, page);
    beforeReload();
    const res = await reload(page);
    if (attempt === 3 || (await documentSource(page)) !== '') return res;
  }
}

/** Where the top-level document came from: 'cache' (the static route's), 'network', or '' (no static route matched). */
function documentSource(page: Page): Promise<string> {
  return page.evaluate(
    () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming & { workerFinalSourceType?: string }).workerFinalSourceType ?? '',
  );
}

/** Reloads and returns the top-level document's response. */
async function reload(page: Page): Promise<Response> {
  const res = await page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
  if (!res) throw new Error('the reload brought no response');
  return res;
}

describe("the Service Worker's copy of the shell", () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeEach(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  /** No RTCPeerConnection in the pages (P2P impossible, as with UDP blocked): the relay carries everything. */
  const withoutWebRtc = () =>
    browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });

  afterEach(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('answers a reload from its copy, and the app loads in the frame', async () => {
    const { page } = browser;
    await withoutWebRtc();
    await openShell(page, `${stack.origin}/two?copy=1`, 'two');
    await waitForCopy(page, 'kept');

    const res = await reload(page);
    expect(res.fromServiceWorker()).toBe(true);
    expect(res.status()).toBe(200);
    expect(res.headers()['x-wingman-shell']).toBe('1');
    // The document keeps the navigation's URL, so the shell loads the same app URL in its frame.
    expect(page.url()).toBe(`${stack.origin}/two?copy=1`);
    await waitForApp(page, 'two');
  });

  it("answers a reload from its copy also while a direct channel is up, and the app sees the frame's document once", async () => {
    const { page } = browser;
    const path = '/two?channel=1';
    await openShell(page, `${stack.origin}${path}`, 'two');
    await waitForTransport(page, 'p2p');
    await waitForCopy(page, 'kept');
    const before = stack.app.requests.filter((r) => r.path === path).length;

    const res = await reload(page);
    expect(res.fromServiceWorker()).toBe(true);
    expect(res.headers()['x-wingman-shell']).toBe('1');
    await waitForApp(page, 'two');
    await waitForTransport(page, 'p2p');
    expect(stack.app.requests.filter((r) => r.path === path).length).toBe(before + 1);
    expect(stack.app.aborted.filter((p) => p === '/two')).toEqual([]);
  });

  it("answers a reload with the worker stopped from the copy in Cache Storage, without starting the worker, and the app sees its document's GET once, without a Referer", async () => {
    const { context, page } = browser;
    await withoutWebRtc();
    const path = '/two?route=stopped';
    await openShell(page, `${stack.origin}${path}`, 'two');
    await waitForRoute(page, true);
    let before = 0;
    await reloadWorkerStopped(context, page, () => (before = stack.app.requests.filter((r) => r.path === path).length));
    expect(await documentSource(page)).toBe('cache');
    expect(page.url()).toBe(`${stack.origin}${path}`);
    const frame = await waitForApp(page, 'two');
    // The frame's own request (no SW started by the navigation to fetch it ahead) names no shell as its Referer.
    expect(stack.app.requests.filter((r) => r.path === path).slice(before)).toEqual([expect.objectContaining({ referer: undefined })]);
    expect(await frame.evaluate(() => document.referrer)).toBe('');
    // The shell announced itself: the worker runs again and serves the next reload itself.
    await waitForTransport(page, 'relay');
    const res = await reload(page);
    expect(res.fromServiceWorker()).toBe(true);
    expect(await documentSource(page)).toBe('');
    await waitForApp(page, 'two');
  });

  it("drops its copy once the server serves no shell for the session, and the next navigation gets the server's answer", async () => {
    const { context, page } = browser;
    await withoutWebRtc();
    await openShell(page, `${stack.origin}/one`, 'one');
    await waitForCopy(page, 'kept');
    await waitForRoute(page, true);

    // Without its agent the session serves no shell (the server shows its "agent gone" page instead).
    await stack.agent.kill();
    const fromCopy = await reload(page);
    expect(fromCopy.fromServiceWorker()).toBe(true);
    // Asking for the next copy got a 404: the copy is gone, and with it the static route's.
    await waitForCopy(page, 'none');
    await waitForRoute(page, false);

    const fromServer = await reloadWorkerStopped(context, page);
    expect(fromServer.fromServiceWorker()).toBe(false);
    expect(await documentSource(page)).toBe('network');
    expect(fromServer.headers()['x-wingman-shell']).toBeUndefined();
    expect(fromServer.status()).toBeGreaterThanOrEqual(500);
  });
});
