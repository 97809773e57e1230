/**
 * The browser client when P2P cannot work in this browser (no
 * RTCPeerConnection): the shell still runs, every app request goes through
 * the Service Worker to the tunnel server's relay, and the app works exactly
 * as it does without Wingman.
 */
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { abortedFetch } from './support/in-app';
import { fetchInApp, openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

describe('relay path through the Service Worker (P2P impossible in the browser)', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    // Every document of the context, the shell included, loses WebRTC: the shell must fall back, not break.
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the app in the shell frame, controlled by the Service Worker, and app fetches carry x-wingman-transport: relay', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one?q=1`, 'one');
    expect(new URL(page.url()).pathname).toBe('/one');
    expect(await frame.evaluate(() => location.pathname + location.search)).toBe('/one?q=1');
    expect(await frame.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const r = await fetchInApp(frame, '/api/hello?x=2');
    expect(r.status).toBe(200);
    expect(r.transport).toBe('relay');
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { x: '2' } });
    const status = await waitForTransport(page, 'relay', /WebRTC/);
    expect(status.reason).toBe('no WebRTC in this browser');
    // The app frame's WebSocket is the shim (injected by the SW into the app's HTML).
    expect(await frame.evaluate(() => (window as unknown as { wsIsShim: boolean }).wsIsShim)).toBe(true);
  });

  it('keeps the address bar in step with navigation, back, forward, reload and deep links', async () => {
    const { page } = browser;
    let frame = await openShell(page, `${stack.origin}/one`, 'one');
    await frame.click('#to-two');
    frame = await waitForApp(page, 'two');
    await page.waitForURL((u) => u.pathname === '/two' && u.search === '?x=1', { timeout: WAIT_MS });
    await frame.click('#to-three');
    await waitForApp(page, 'nested/three');
    await page.waitForURL((u) => u.pathname === '/nested/three' && u.hash === '#frag', { timeout: WAIT_MS });
    expect(await page.title()).toBe('Page nested/three');

    await page.goBack();
    await waitForApp(page, 'two');
    await page.waitForURL((u) => u.pathname === '/two', { timeout: WAIT_MS });
    await page.goForward();
    await waitForApp(page, 'nested/three');
    await page.waitForURL((u) => u.pathname === '/nested/three', { timeout: WAIT_MS });

    await page.reload();
    await waitForApp(page, 'nested/three');
    expect(new URL(page.url()).pathname).toBe('/nested/three');

    await openShell(page, `${stack.origin}/two?deep=1`, 'two');
    expect(await appFrameUrl()).toBe('/two?deep=1');

    async function appFrameUrl(): Promise<string> {
      const f = await waitForApp(page);
      return f.evaluate(() => location.pathname + location.search);
    }
  });

  it('follows redirects, answers HEAD, and streams server-sent events incrementally', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const redirected = await fetchInApp(frame, '/redirect');
    expect(redirected.status).toBe(200);
    // (Response.redirected stays false for redirects a SW answers: a documented difference.)
    expect(redirected.url).toBe(`${stack.origin}/api/hello?from=redirect`);
    expect(JSON.parse(redirected.text).query).toEqual({ from: 'redirect' });

    const head = await fetchInApp(frame, '/api/hello', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, text: '' });
    expect(head.headers['x-head']).toBe('yes');

    const firstEvent = frame.evaluate(
      (timeoutMs) =>
        new Promise<string>((resolve, reject) => {
          const es = new EventSource('/sse');
          const t = setTimeout(() => reject(new Error('no SSE event')), timeoutMs);
          es.onmessage = (e) => {
            clearTimeout(t);
            es.close();
            resolve(String(e.data));
          };
        }),
      WAIT_MS,
    );
    // The first event arrives while the response is still open (the app holds it).
    expect(await firstEvent).toBe('first');
    stack.app.releaseSse();
  });

  it('carries a WebSocket through the shim over the relay', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const result = await frame.evaluate(
      (timeoutMs) =>
        new Promise<{ hello: string; echo: string; binary: number[] }>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/ws`, ['chat']);
          ws.binaryType = 'arraybuffer';
          const got: unknown[] = [];
          const t = setTimeout(() => reject(new Error(`WebSocket timed out; got ${JSON.stringify(got)}`)), timeoutMs);
          ws.onopen = () => ws.send('ping');
          ws.onmessage = (e) => {
            got.push(e.data);
            if (got.length === 2) ws.send(new Uint8Array([1, 2, 3]));
            if (got.length === 3) {
              clearTimeout(t);
              ws.close(1000);
              resolve({ hello: String(got[0]), echo: String(got[1]), binary: [...new Uint8Array(got[2] as ArrayBuffer)] });
            }
          };
          ws.onerror = () => reject(new Error('WebSocket error'));
        }),
      WAIT_MS,
    );
    expect(JSON.parse(result.hello)).toMatchObject({ hello: true, protocol: 'chat' });
    expect(result.echo).toBe('ping');
    expect(result.binary).toEqual([1, 2, 3]);
  });

  it('cancels the local request when the app aborts a fetch before the response', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    stack.app.aborted.length = 0;
    expect(await abortedFetch(frame, '/hang', 300)).toBe('AbortError');
    await stack.app.waitForAborted('/hang', WAIT_MS);
    expect(stack.app.aborted).toContain('/hang');
  });
});
