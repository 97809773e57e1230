/**
 * Environment smoke test for the browser suite: proves that headless Debian
 * Chromium, inside `npm test`'s loopback-only network namespace, gives us the
 * two platform features the browser client is built on — a Service Worker on
 * an `http://<name>.localhost` origin, and an RTCPeerConnection data channel
 * over loopback.
 */
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { createStaticServer, type StaticServer } from './helpers/static-server';

/** Every in-page wait is bounded; loopback ICE completes in well under a second here. */
const IN_PAGE_TIMEOUT_MS = 15_000;

const PAGE_HTML = `<!doctype html>
<meta charset="utf-8">
<title>wingman smoke</title>
<script>
  // Rejects with a readable message instead of hanging the test.
  window.withTimeout = (promise, ms, what) => Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms)),
  ]);
</script>
<p>smoke</p>`;

const SW_JS = `
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  if (new URL(event.request.url).pathname === '/from-sw') {
    event.respondWith(new Response('served by the service worker', { headers: { 'x-served-by': 'sw' } }));
  }
});`;

jest.setTimeout(60_000);

describe('browser environment (Chromium in a loopback-only namespace)', () => {
  let server: StaticServer;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    server = await createStaticServer({
      routes: {
        '/': { type: 'text/html; charset=utf-8', body: PAGE_HTML },
        '/sw.js': { type: 'text/javascript; charset=utf-8', body: SW_JS },
      },
    });
    browser = await launchChromium();
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('registers a Service Worker on a *.localhost origin and serves a fetch from it', async () => {
    await browser.page.goto(`${server.origin('smoke')}/`);
    const result = await browser.page.evaluate(async (timeoutMs) => {
      const w = window as unknown as { withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> };
      const secure = window.isSecureContext;
      const registration = await navigator.serviceWorker.register('/sw.js');
      await w.withTimeout(navigator.serviceWorker.ready, timeoutMs, 'service worker ready');
      if (!navigator.serviceWorker.controller) {
        await w.withTimeout(
          new Promise((resolve) => navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true })),
          timeoutMs,
          'service worker taking control',
        );
      }
      const response = await fetch('/from-sw');
      return { secure, scope: registration.scope, servedBy: response.headers.get('x-served-by'), text: await response.text() };
    }, IN_PAGE_TIMEOUT_MS);

    expect(result.secure).toBe(true);
    expect(result.scope).toBe(`${server.origin('smoke')}/`);
    expect(result).toMatchObject({ servedBy: 'sw', text: 'served by the service worker' });
    expect(server.requests).not.toContain('/from-sw');
  });

  it('opens an RTCPeerConnection data channel between two connections over loopback', async () => {
    await browser.page.goto(`${server.origin('smoke')}/`);
    const result = await browser.page.evaluate(async (timeoutMs) => {
      const w = window as unknown as { withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> };
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      try {
        a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
        b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
        b.ondatachannel = (e) => {
          e.channel.onmessage = (m) => e.channel.send(`echo:${m.data}`);
        };
        const channel = a.createDataChannel('smoke');
        const echoed = new Promise<string>((resolve) => {
          channel.onopen = () => channel.send('ping');
          channel.onmessage = (m) => resolve(String(m.data));
        });
        await a.setLocalDescription(await a.createOffer());
        await b.setRemoteDescription(a.localDescription!);
        await b.setLocalDescription(await b.createAnswer());
        await a.setRemoteDescription(b.localDescription!);
        const reply = await w.withTimeout(echoed, timeoutMs, 'data channel open and echo');

        // The selected pair's local candidate tells which address the bytes used.
        const byId = new Map<string, { type: string; [key: string]: unknown }>();
        (await a.getStats()).forEach((s) => byId.set(s.id, s));
        let localAddress: string | null = null;
        for (const s of byId.values()) {
          if (s.type !== 'transport' || typeof s.selectedCandidatePairId !== 'string') continue;
          const pair = byId.get(s.selectedCandidatePairId);
          const local = typeof pair?.localCandidateId === 'string' ? byId.get(pair.localCandidateId) : undefined;
          localAddress = typeof local?.address === 'string' ? local.address : null;
        }
        return { reply, localAddress };
      } finally {
        a.close();
        b.close();
      }
    }, IN_PAGE_TIMEOUT_MS);

    expect(result.reply).toBe('echo:ping');
    expect(['127.0.0.1', '::1']).toContain(result.localAddress);
  });
});
