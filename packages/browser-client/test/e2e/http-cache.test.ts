/**
 * The Service Worker's HTTP cache for P2P responses: what a browser's own
 * cache would keep is kept (a fresh response answers without a request, a
 * stale one is revalidated over the channel and a 304 answered from the
 * entry, with the entry's head even when the 304 carries none), what it
 * would not keep is not (no-store, another variant under Vary), and a
 * reload of the shell gets its fresh entries before its channel is even up.
 */
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startRecordingApp, type RecordingApp } from './support/recording-app';
import { until } from '../../../../test/helpers/wait';
import { HTTP_CACHE_REVALIDATE_MIN_BYTES } from '../../src/sw/http-cache';
import { inPage, openShell, waitForTransport, WAIT_MS, type AnyFrame } from './support/shell';

jest.setTimeout(120_000);

/** A body this long is worth revalidating (a smaller one that is never fresh is not kept). */
const PAD = HTTP_CACHE_REVALIDATE_MIN_BYTES;

describe('the HTTP cache of P2P responses', () => {
  let app: RecordingApp;
  let browser: LaunchedChromium;
  let origin: string;
  let agent: Proc;

  beforeAll(async () => {
    app = await startRecordingApp();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    let sessionId: string;
    ({ agent, sessionId } = await startAgent(`http://localhost:${port}`, String(app.port)));
    origin = `http://${sessionId}.localhost:${port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
    await killAll();
    await app?.close();
  });

  async function p2pFrame(): Promise<AnyFrame> {
    const frame = await openShell(browser.page, `${origin}/page`, 'page');
    // Also waits until the Service Worker has heard of the channel.
    await waitForTransport(browser.page, 'p2p');
    return frame;
  }

  /** Fetches `path` from the app's frame (with `headers`): what the page saw, with the route header. */
  const get = (frame: AnyFrame, path: string, headers: Record<string, string> = {}) =>
    inPage(
      frame,
      async ({ path, headers }) => {
        const r = await fetch(path, { headers });
        // The agent's time for the exchange travels on the channel's head only: never the page's.
        return {
          status: r.status,
          type: r.headers.get('content-type'),
          body: await r.text(),
          route: r.headers.get('x-wingman-route'),
          agentMs: r.headers.get('x-wingman-agent-ms'),
        };
      },
      { path, headers },
    );

  /** Waits until the cache holds `path` (the Service Worker stores a copy while the page reads the body). */
  const stored = (frame: AnyFrame, path: string) =>
    until(async () => ((await inPage(frame, async (p) => (await caches.match(p)) !== undefined, path)) ? true : undefined), {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      what: `${path} in the HTTP cache`,
    });

  it('answers a fresh response from the cache, without a request', async () => {
    const frame = await p2pFrame();
    const path = `/act?fresh-${Date.now()}&cc=${encodeURIComponent('max-age=600')}`;
    const first = await get(frame, path);
    // Only a P2P response is kept: a first answer from elsewhere would leave nothing to wait for.
    expect(first).toMatchObject({ status: 200, route: 'p2p; reason=default', agentMs: null });
    await stored(frame, path);
    const second = await get(frame, path);
    expect(second).toEqual({ ...first, route: 'cache; reason=fresh' });
    expect(app.find(path)).toHaveLength(1);
  });

  it('revalidates a no-cache response over the channel and answers the 304 from the entry', async () => {
    const frame = await p2pFrame();
    const path = `/act?reval-${Date.now()}&cc=no-cache&etag=v7&pad=${PAD}`;
    const first = await get(frame, path);
    await stored(frame, path);
    const second = await get(frame, path);
    expect(first).toMatchObject({ status: 200, type: 'application/json' });
    expect(second).toEqual({ ...first, route: 'cache; reason=revalidated' });
    const seen = app.find(path);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.find(([n]) => n.toLowerCase() === 'if-none-match')?.[1]).toBe('"v7"');
  });

  it('answers a bare 304 (no validator, no Content-Type: Vite’s) with the entry’s head', async () => {
    const frame = await p2pFrame();
    const path = `/act?bare-${Date.now()}&cc=no-cache&etag=v8&bare304=1&pad=${PAD}`;
    const first = await get(frame, path);
    await stored(frame, path);
    const second = await get(frame, path);
    const third = await get(frame, path);
    expect(first).toMatchObject({ status: 200, type: 'application/json' });
    expect(second).toEqual({ ...first, route: 'cache; reason=revalidated' });
    // The entry kept its head after the bare 304: the next revalidation still has the ETag to send.
    expect(third).toEqual(second);
    expect(app.find(path).map((r) => r.headers.find(([n]) => n.toLowerCase() === 'if-none-match')?.[1])).toEqual([undefined, '"v8"', '"v8"']);
  });

  it('answers only the variant it holds (Vary)', async () => {
    const frame = await p2pFrame();
    const path = `/act?vary-${Date.now()}&vary=X-Flavour&cc=${encodeURIComponent('max-age=600')}`;
    const a = await get(frame, path, { 'x-flavour': 'a' });
    await stored(frame, path);
    const aAgain = await get(frame, path, { 'x-flavour': 'a' });
    const b = await get(frame, path, { 'x-flavour': 'b' });
    expect(aAgain.route).toBe('cache; reason=fresh');
    expect(a.route).toMatch(/^p2p; /);
    expect(b.route).toMatch(/^p2p; /);
    expect(app.find(path).map((r) => r.headers.find(([n]) => n.toLowerCase() === 'x-flavour')?.[1])).toEqual(['a', 'b']);
  });

  it('keeps nothing marked no-store, nor a small response it would have to revalidate', async () => {
    const frame = await p2pFrame();
    const path = `/act?nostore-${Date.now()}`;
    const first = await get(frame, path);
    const second = await get(frame, path);
    expect(first.route).toMatch(/^p2p; /);
    expect(second.route).toMatch(/^p2p; /);
    expect(app.find(path)).toHaveLength(2);
    expect(await inPage(frame, async (p) => (await caches.match(p)) === undefined, path)).toBe(true);
    const small = `/act?small-${Date.now()}&cc=no-cache&etag=v9`;
    await get(frame, small);
    await get(frame, small);
    expect(app.find(small).map((r) => r.headers.find(([n]) => n.toLowerCase() === 'if-none-match')?.[1])).toEqual([undefined, undefined]);
  });

  it('answers a reload’s fresh entries from the cache, before the new shell’s channel is up', async () => {
    let frame = await p2pFrame();
    const path = `/act?reload-${Date.now()}&cc=${encodeURIComponent('max-age=600, immutable')}`;
    await get(frame, path);
    await stored(frame, path);
    frame = await openShell(browser.page, `${origin}/page`, 'page');
    const again = await get(frame, path);
    expect(again.route).toBe('cache; reason=fresh');
    expect(app.find(path)).toHaveLength(1);
  });

  // Last: it ends the session's agent.
  it('drops every entry once the session serves this viewer no shell (its agent left)', async () => {
    const frame = await p2pFrame();
    const path = `/act?gone-${Date.now()}&cc=${encodeURIComponent('max-age=600, immutable')}`;
    await get(frame, path);
    await stored(frame, path);
    await agent.kill();
    // The reload asks the server for the next copy of the shell: without its agent the session has none.
    await browser.page.reload({ waitUntil: 'commit', timeout: WAIT_MS });
    await until(async () => ((await inPage(browser.page, async (p) => (await caches.match(p)) === undefined, path).catch(() => false)) ? true : undefined), {
      timeoutMs: WAIT_MS,
      intervalMs: 50,
      what: `${path} gone from the HTTP cache`,
    });
  });
});
