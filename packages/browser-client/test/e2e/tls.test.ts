/**
 * The browser client on a real (non-localhost) name, served over wingman-server's
 * own TLS (--tls-cert / --tls-key): the page is a secure context because the
 * certificate is trusted (a test CA in the profile's NSS database), not because
 * of any Chromium flag, so the Service Worker runs and the app's requests move
 * to P2P. Over plain http on the same name the page gets no Service Worker.
 * Names under `wingman.test` (RFC 2606) are mapped to 127.0.0.1 inside Chromium.
 */
import { createTestCa, type TestCa } from '../../../../test/helpers/test-ca';
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startApp, type FixtureApp } from './support/app';
import { fetchInApp, openShell, waitForTransport } from './support/shell';

jest.setTimeout(120_000);

const DOMAIN = 'wingman.test';

describe('the browser client over built-in TLS on a real name', () => {
  let ca: TestCa;
  let cert: { certFile: string; keyFile: string };
  let app: FixtureApp;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    ca = createTestCa();
    cert = ca.issue('server', { serialHex: '3003', altNames: [`DNS:*.${DOMAIN}`, 'DNS:localhost', 'IP:127.0.0.1'] });
    app = await startApp();
    browser = await launchChromium({ env: { HOME: ca.nssHome() }, extraArgs: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`] });
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await killAll();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    ca?.remove();
  });

  /** Server on DOMAIN (the agent reaches it as localhost, trusting the test CA); returns the session origin a browser uses. */
  async function start(serverArgs: string[]): Promise<string> {
    const { url: serverUrl, port } = await startServer({ WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, ['--domain', DOMAIN, ...serverArgs]);
    const { sessionId } = await startAgent(`${new URL(serverUrl).protocol}//localhost:${port}`, String(app.port), { NODE_EXTRA_CA_CERTS: ca.caFile });
    return `${new URL(serverUrl).protocol}//${sessionId}.${DOMAIN}:${port}`;
  }

  it('runs the Service Worker and moves app requests to P2P on https://<id>.wingman.test', async () => {
    const origin = await start(['--tls-cert', cert.certFile, '--tls-key', cert.keyFile]);
    expect(origin).toMatch(/^https:/);
    const frame = await openShell(browser.page, `${origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const r = await fetchInApp(frame, '/api/hello?via=tls');
    expect(r.transport).toBe('p2p');
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { via: 'tls' } });
  });

  it('gets no Service Worker on plain http://<id>.wingman.test, which is what the server warns about', async () => {
    const origin = await start([]);
    await browser.page.goto(`${origin}/one`);
    const context = await browser.page.evaluate(() => ({ secure: window.isSecureContext, serviceWorker: 'serviceWorker' in navigator }));
    expect(context).toEqual({ secure: false, serviceWorker: false });
  });
});
