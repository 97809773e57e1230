/**
 * The Service Worker's HTTP cache for P2P responses: what a browser's own
 * cache would keep is kept (a fresh response answers without a request, a
 * stale one is revalidated over the channel and a 304 answered from the
 * entry), what it would not keep is not (no-store), and a reload of the
 * shell gets its fresh entries before its channel is even up.
 */
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startRecordingApp, type RecordingApp } from './support/recording-app';
import { until } from '../../../../test/helpers/wait';
import { inPage, openShell, waitForTransport, WAIT_MS, type AnyFrame } from './support/shell';

jest.setTimeout(120_000);

describe('the HTTP cache of P2P responses', () => {
  let app: RecordingApp;
  let browser: LaunchedChromium;
  let origin: string;

  beforeAll(async () => {
    app = await startRecordingApp();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const { sessionId } = await startAgent(`http://localhost:${port}`, String(app.port));
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
    await waitForTransport(browser.page, 'p2p');
    return frame;
  }

  /** Fetches `path` from the app's frame: what the page saw, with the route header. */
  const get = (frame: AnyFrame, path: string) =>
    inPage(
      frame,
      async (path) => {
        const r = await fetch(path);
        return { status: r.status, body: await r.text(), route: r.headers.get('x-wingman-route') };
      },
      path,
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
    await stored(frame, path);
    const second = await get(frame, path);
    expect(first).toMatchObject({ status: 200, route: 'p2p; reason=default' });
    expect(second).toEqual({ ...first, route: 'p2p; reason=cached' });
    expect(app.find(path)).toHaveLength(1);
  });

  it('revalidates a no-cache response over the channel and answers the 304 from the entry', async () => {
    const frame = await p2pFrame();
    const path = `/act?reval-${Date.now()}&cc=no-cache&etag=v7`;
    const first = await get(frame, path);
    await stored(frame, path);
    const second = await get(frame, path);
    expect(second).toEqual(first);
    expect(second.status).toBe(200);
    const seen = app.find(path);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.headers.find(([n]) => n.toLowerCase() === 'if-none-match')?.[1]).toBe('"v7"');
  });

  it('keeps nothing marked no-store', async () => {
    const frame = await p2pFrame();
    const path = `/act?nostore-${Date.now()}`;
    await get(frame, path);
    await get(frame, path);
    expect(app.find(path)).toHaveLength(2);
  });

  it('answers a reload’s fresh entries from the cache, before the new shell’s channel is up', async () => {
    let frame = await p2pFrame();
    const path = `/act?reload-${Date.now()}&cc=${encodeURIComponent('max-age=600, immutable')}`;
    await get(frame, path);
    await stored(frame, path);
    frame = await openShell(browser.page, `${origin}/page`, 'page');
    const again = await get(frame, path);
    expect(again.route).toBe('p2p; reason=cached');
    expect(app.find(path)).toHaveLength(1);
  });
});
