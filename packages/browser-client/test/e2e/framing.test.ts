/**
 * An app's own framing and script policies through the shell: a page sent
 * with `X-Frame-Options: DENY` and `frame-ancestors 'none'` (Django's and
 * Spring Security's defaults) shows in the session's shell over P2P and over
 * the Service Worker's relay, while another origin still cannot frame it;
 * and the shim runs under a nonce-only `'strict-dynamic'` CSP.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startRecordingApp, type RecordingApp } from './support/recording-app';
import { waitForApp, waitForTransport, WAIT_MS } from './support/shell';

jest.setTimeout(120_000);

describe("the app's framing and script policies in the shell", () => {
  let app: RecordingApp;
  let origin: string;
  let browser: LaunchedChromium;
  let noRtc: LaunchedChromium;
  let foreign: Server;

  beforeAll(async () => {
    app = await startRecordingApp();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const { sessionId } = await startAgent(`http://localhost:${port}`, String(app.port));
    origin = `http://${sessionId}.localhost:${port}`;
    browser = await launchChromium();
    noRtc = await launchChromium({ webRtc: false });
    // Another origin's page that frames the session's app.
    foreign = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><iframe id="f" src="${origin}/frame-deny"></iframe>`);
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
    await noRtc?.close();
    await new Promise((resolve) => foreign?.close(resolve));
    await killAll();
    await app?.close();
  });

  it.each([
    ['P2P', 'p2p'],
    ['the Service Worker relay', 'relay'],
  ] as const)('shows an X-Frame-Options: DENY page in the shell over %s', async (_name, transport) => {
    const page = transport === 'p2p' ? browser.page : noRtc.page;
    await page.goto(`${origin}/page`);
    await waitForApp(page, 'page');
    await waitForTransport(page, transport);
    // A navigation inside the app, to the page that refuses every frame.
    await page.goto(`${origin}/frame-deny`);
    const frame = await waitForApp(page, 'framed');
    expect(await frame.evaluate(() => document.getElementById('name')?.textContent)).toBe('framed');
  });

  it('still refuses to be framed by another origin', async () => {
    // The session's Service Worker is registered in this browser (the test above): it handles the frame's navigation.
    const page = browser.page;
    const requestsBefore = app.find('/frame-deny').length;
    await page.goto(`http://foreign.localhost:${(foreign.address() as AddressInfo).port}/`);
    // The app answered the frame's request; the browser refused to show it.
    await until(() => app.find('/frame-deny').length > requestsBefore || undefined, { timeoutMs: WAIT_MS, intervalMs: 50, what: "the framed page's request" });
    const child = await until(() => page.mainFrame().childFrames()[0], { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the iframe' });
    await until(async () => (child.url() === 'chrome-error://chromewebdata/' ? true : undefined), {
      timeoutMs: WAIT_MS,
      intervalMs: 100,
      what: 'the browser to refuse the frame',
      observe: () => child.url(),
    });
  });

  it("runs the shim under the app's nonce-only strict-dynamic CSP, over P2P", async () => {
    const page = browser.page;
    await page.goto(`${origin}/page`);
    await waitForApp(page, 'page');
    await waitForTransport(page, 'p2p');
    await page.goto(`${origin}/strict-csp`);
    const frame = await waitForApp(page, 'strict');
    expect(await frame.evaluate(() => (window as unknown as { wsIsShim: boolean }).wsIsShim)).toBe(true);
  });
});
