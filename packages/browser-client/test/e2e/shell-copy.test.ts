/**
 * The Service Worker's copy of the shell (sw/navigation.ts): a top-level
 * navigation the running SW sees is answered from it, with no round trip to
 * the tunnel server before the frame starts, also while a direct channel is
 * up (the frame's document fetched ahead goes over the relay, not through the
 * page being left, so the app sees it once); a
 * copy the server no longer stands behind is dropped, and the next navigation
 * gets the server's answer.
 */
import type { Page, Response } from 'playwright-core';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

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

  it("drops its copy once the server serves no shell for the session, and the next navigation gets the server's answer", async () => {
    const { page } = browser;
    await withoutWebRtc();
    await openShell(page, `${stack.origin}/one`, 'one');
    await waitForCopy(page, 'kept');

    // Without its agent the session serves no shell (the server shows its "agent gone" page instead).
    await stack.agent.kill();
    const fromCopy = await reload(page);
    expect(fromCopy.fromServiceWorker()).toBe(true);
    // Asking for the next copy got a 404: the copy is gone.
    await waitForCopy(page, 'none');

    const fromServer = await reload(page);
    expect(fromServer.fromServiceWorker()).toBe(false);
    expect(fromServer.headers()['x-wingman-shell']).toBeUndefined();
    expect(fromServer.status()).toBeGreaterThanOrEqual(500);
  });
});
