/**
 * While P2P stalls (a lossy link) and no shell has a channel, or a channel is
 * up but the request would share it with others, the Service
 * Worker leaves a script, style sheet, image or font GET it would only relay
 * to the browser (route-decision.ts leaveToBrowser): Resource Timing then
 * names the protocol of the browser's own request, where a response the SW
 * made names none; a fetch() stays with the SW (`reason=no-channel`). The stall verdict
 * is the Service Worker's own, from lone requests whose answers the shell
 * delivered late (its main thread held busy); it outlasts the channel it was
 * formed on, which is kept down afterwards by refusing the shell's signaling
 * socket. A channel whose loss probe finds the path clean (loopback) gives no
 * verdict. A body that stops coming over the channel while P2P stalls moves to
 * the relay (resumable-body.ts), and so does a script whose head is late (head-watch.ts).
 */
import type { Frame } from 'playwright-core';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, inPage, openShell, waitForTransport } from './support/shell';
import { startStackWith, type Stack } from './support/stack';
import { patternSha256 } from './support/app';
import { delay, until } from '../../../../test/helpers/wait';
import { STALL_MIN_COUNT } from '../../src/sw/lossy-path';

jest.setTimeout(120_000);

/** Image loads tried until one shows the Service Worker's verdict (the new shell's announcement reaches it first). */
const MAX_TRIES = 40;
const TRY_EVERY_MS = 100;
/** The browser's own request answered it (a protocol, not the Service Worker). */
const byBrowser = (who: string) => who !== 'sw' && who !== 'no entry';
/** Requests that must all go through the Service Worker without the verdict (past its start-up: 1 s). */
const CONTROL_TRIES = 10;
/** How long the app takes to answer a stalled request (agent time: not counted as the path's). */
const APP_WAIT_MS = 500;
/** How long the shell's main thread is held busy from the moment the app has the request: past the answer's arrival. */
const BUSY_MS = 1200;

describe('a stalling P2P path without a channel', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    [stack, browser] = await startStackWith(launchChromium);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /**
   * Who answered `count` image loads of `/api/hello`, TRY_EVERY_MS apart, until `until` holds for one:
   * `sw` when the Service Worker made the response (Resource Timing names no protocol then), else
   * the protocol the browser's own request used.
   */
  async function imageLoads(frame: Frame, count: number, until?: (who: string) => boolean): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < count; i++) {
      seen.push(...(await burst(frame, 1)));
      if (until?.(seen[i]!)) break;
      await delay(TRY_EVERY_MS);
    }
    return seen;
  }

  /** Who answered each of `count` image loads started at once (as a page's burst of modules), as imageLoads says. */
  function burst(frame: Frame, count: number): Promise<string[]> {
    return inPage(
      frame,
      (n) =>
        Promise.all(
          Array.from(
            { length: n },
            () =>
              new Promise<string>((resolve) => {
                const url = `/api/hello?img=${Math.random()}`;
                const img = new Image();
                // The entry may follow the load event by a task: looked for up to 20 times, 50 ms apart.
                const done = (tries = 20) => {
                  const entry = performance.getEntriesByName(new URL(url, location.href).href)[0] as PerformanceResourceTiming | undefined;
                  if (entry) resolve(entry.nextHopProtocol || 'sw');
                  else if (tries <= 0) resolve('no entry');
                  else setTimeout(() => done(tries - 1), 50);
                };
                img.onload = () => done();
                img.onerror = () => done();
                img.src = url;
              }),
          ),
        ),
      count,
    );
  }

  /** stallP2P() calls so far. */
  let stalls = 0;

  /**
   * Makes the Service Worker see P2P stall (path-choice.ts stalls): after a few quick lone requests
   * (the path's best time), STALL_MIN_COUNT lone ones whose answers reach the page late, as behind a
   * lost packet on one ordered channel. Each waits APP_WAIT_MS at the app, and while it waits the
   * shell's main thread (the app frame's too: same origin) is held busy for BUSY_MS, so the shell
   * takes the answer off the channel only afterwards.
   */
  async function stallP2P(frame: Frame): Promise<void> {
    stalls++;
    for (let i = 0; i < 3; i++) await fetchInApp(frame, `/api/hello?quick=${i}`);
    for (let i = 0; i < STALL_MIN_COUNT; i++) {
      // A path of its own: the wait below is for this request, not one of an earlier stallP2P.
      const path = `/api/wait?ms=${APP_WAIT_MS}&stall=${stalls}.${i}`;
      const answered = fetchInApp(frame, path);
      await until(() => stack.app.requests.some((r) => r.path === path), { timeoutMs: 10_000, intervalMs: 10, what: `the app has ${path}` });
      await inPage(
        browser.page,
        (ms) => {
          const end = performance.now() + ms;
          while (performance.now() < end);
        },
        BUSY_MS,
      );
      await answered;
    }
  }

  it('with a channel up, leaves image loads that would share the stalling channel to the browser, a burst too; a lone one keeps P2P', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await stallP2P(frame);
    // Alone on P2P: the Service Worker carries it (a lone request is how the verdict clears).
    expect(await imageLoads(frame, 1)).toEqual(['sw']);
    // A burst, as a page's modules come: all but about the first share the channel with those before them.
    expect((await burst(frame, 8)).filter(byBrowser).length).toBeGreaterThanOrEqual(6);
    // A request the app never answers, in flight on P2P from now on.
    await inPage(frame, () => void fetch('/hang').catch(() => undefined), undefined);
    expect((await imageLoads(frame, MAX_TRIES, byBrowser)).pop()).toMatch(/^(http\/1\.1|h2)$/);
    await unregisterServiceWorkers(page);
  });

  it('moves a body that stops coming over the channel while P2P stalls to the relay, by a Range request for the rest', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await stallP2P(frame);
    const n = 1024 * 1024;
    // The app sends half the body and nothing more; only a Range request gets the rest.
    const r = await inPage(
      frame,
      async (n) => {
        const res = await fetch(`/ranged?n=${n}&stall=${n / 2}&moved=1`);
        const body = new Uint8Array(await res.arrayBuffer());
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
        return { route: res.headers.get('x-wingman-route'), got: body.length, sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
      },
      n,
    );
    expect(r).toEqual({ route: expect.stringMatching(/^p2p;/), got: n, sha: patternSha256(n) });
    expect(stack.app.requests.filter((x) => x.path.includes('moved=1')).map((x) => x.range)).toEqual([undefined, `bytes=${n / 2}-`]);
    await unregisterServiceWorkers(page);
  });

  it('sends a script whose head is late over the stalling channel again over the relay', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await stallP2P(frame);
    // The app answers after 2 s; the Service Worker gives the channel up for this script after 1 s.
    const path = '/api/wait?ms=2000&late=head';
    await inPage(
      frame,
      (src) =>
        new Promise<void>((resolve) => {
          const script = document.createElement('script');
          script.onload = script.onerror = () => resolve();
          script.src = src;
          document.head.append(script);
        }),
      path,
    );
    expect(stack.app.requests.filter((r) => r.path === path)).toHaveLength(2);
    // The agent logs each request once it is done (its lines are written in batches).
    const transports = () => stack.agent.events.filter((e) => e.event === 'request' && e.target === path).map((e) => e.transport);
    await until(() => transports().includes('relay') || undefined, {
      timeoutMs: 10_000,
      what: 'the agent logs the request over the relay',
      observe: transports,
    });
    await unregisterServiceWorkers(page);
  });

  it('leaves image loads to the browser only while P2P stalls, fetch() to the SW; without the verdict the SW relays them', async () => {
    const { page } = browser;
    // A new installation: no stall verdict from before.
    await unregisterServiceWorkers(page);
    // The shell's signaling socket refused while `refuse` holds (a route registered later wins over an earlier one).
    let refuse = false;
    await page.routeWebSocket(/\/__wingman\/signal/, (ws) => (refuse ? ws.close() : ws.connectToServer()));
    let frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    // The channel's own probe finds loopback clean: no verdict, so with a request in flight on P2P the SW still relays image loads.
    let loss: unknown;
    for (let i = 0; i < MAX_TRIES && loss === undefined; i++) {
      loss = await inPage(page, () => (window as unknown as { __wingman: { status(): { loss?: unknown } } }).__wingman.status().loss, undefined);
      if (loss === undefined) await delay(TRY_EVERY_MS);
    }
    expect(loss).toEqual({ sent: 128, lost: 0 });
    await inPage(frame, () => void fetch('/hang').catch(() => undefined), undefined);
    expect(new Set(await imageLoads(frame, CONTROL_TRIES))).toEqual(new Set(['sw']));

    // No channel, and no stall verdict: the Service Worker relays the request itself.
    refuse = true;
    frame = await openShell(page, `${stack.origin}/two`, 'two');
    expect(new Set(await imageLoads(frame, CONTROL_TRIES))).toEqual(new Set(['sw']));

    // P2P stalls over a new channel; the verdict outlasts it: with no channel the browser fetches the image.
    refuse = false;
    frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await stallP2P(frame);
    refuse = true;
    frame = await openShell(page, `${stack.origin}/two`, 'two');
    expect((await imageLoads(frame, MAX_TRIES, byBrowser)).pop()).toMatch(/^(http\/1\.1|h2)$/);
    // A fetch() stays with the Service Worker (its answer could set a cookie the SW's jar must keep).
    const r = await fetchInApp(frame, '/api/hello?via=fetch');
    expect(r.headers['x-wingman-route']).toBe('relay; reason=no-channel');
    await unregisterServiceWorkers(page);
  });
});
