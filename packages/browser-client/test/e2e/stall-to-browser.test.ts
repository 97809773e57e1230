/**
 * While P2P stalls (a lossy link) and no shell has a channel, the Service
 * Worker leaves a GET it would only relay to the browser (route-decision.ts
 * leaveToBrowser): the app's request reaches the agent without the SW's
 * relay headers, so the agent's answer says `reason=no-service-worker`
 * where the SW's own relay fetch says `reason=no-channel`. The stall verdict
 * is the one a restarted Service Worker takes over from IndexedDB
 * (path-memory.ts); the channel is kept down by refusing the shell's
 * signaling socket.
 */
import type { Frame } from 'playwright-core';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, inPage, openShell, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';
import { delay } from '../../../../test/helpers/wait';

jest.setTimeout(120_000);

/** Requests asked until the restarted Service Worker's state is in (it reads IndexedDB, then syncs the shells). */
const MAX_TRIES = 40;
const TRY_EVERY_MS = 100;
/** Requests that must all go through the Service Worker without the verdict (past its start-up: 1 s). */
const CONTROL_TRIES = 10;

describe('a stalling P2P path without a channel', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
    await stack?.close();
  });

  /** The routes of `count` requests for `/api/hello`, TRY_EVERY_MS apart, until one says `until`. */
  async function routes(frame: Frame, count: number, until?: string): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await fetchInApp(frame, `/api/hello?try=${i}`);
      expect(r.status).toBe(200);
      seen.push(r.headers['x-wingman-route'] ?? 'none');
      if (seen[i] === until) break;
      await delay(TRY_EVERY_MS);
    }
    return seen;
  }

  /** Stops the Service Worker (it restarts for the next request and reads what the previous one kept). */
  async function stopServiceWorker(): Promise<void> {
    const cdp = await browser.page.context().newCDPSession(browser.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
  }

  it('sends the app GETs to the browser only while P2P stalls: the SW relays them without the verdict', async () => {
    const { page } = browser;
    await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    // No channel from now on: the shell's signaling socket is refused.
    await page.routeWebSocket(/\/__wingman\/signal/, (ws) => ws.close());

    // Without a stall verdict the Service Worker relays the request itself.
    await stopServiceWorker();
    let frame = await openShell(page, `${stack.origin}/two`, 'two');
    expect(new Set(await routes(frame, CONTROL_TRIES))).toEqual(new Set(['relay; reason=no-channel']));

    // The verdict a previous Service Worker kept (P2P stalled a moment ago): the browser fetches it.
    await inPage(
      frame,
      () =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('wingman', 1);
          open.onerror = () => reject(new Error(String(open.error)));
          open.onsuccess = () => {
            const tx = open.result.transaction('kv', 'readwrite');
            tx.objectStore('kv').put({ v: 1, stalledAt: Date.now(), bulkAt: null, bytesPerS: {}, bulk: 'p2p' }, 'path-memory');
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(new Error(String(tx.error)));
          };
        }),
      undefined,
    );
    await stopServiceWorker();
    frame = await openShell(page, `${stack.origin}/one`, 'one');
    expect((await routes(frame, MAX_TRIES, 'relay; reason=no-service-worker')).pop()).toBe('relay; reason=no-service-worker');
    const body = JSON.parse((await fetchInApp(frame, '/api/hello?via=browser')).text);
    expect(body).toMatchObject({ hello: 'world', query: { via: 'browser' } });
  });
});
