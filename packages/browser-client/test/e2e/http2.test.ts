/**
 * Chromium and wingman-server's own TLS (HTTP/2 on by default): the session's pages come
 * over HTTP/2 (one connection, no six-connection limit), with the browser
 * client's shell (P2P on) and without it (P2P off); the shell's signaling
 * socket and the app's relayed WebSockets open on that same connection as
 * extended CONNECT streams (RFC 8441), counted by the server's
 * `wingman_websocket_upgrades_total{http="2"}`. The certificate is trusted
 * through the profile's NSS database; names under `wingman.test` map to
 * 127.0.0.1 inside Chromium.
 */
import type { Frame, Page } from 'playwright-core';
import { metricSum } from '../../../../test/helpers/http-client';
import { createTestCa, type TestCa } from '../../../../test/helpers/test-ca';
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startApp, type FixtureApp } from './support/app';
import { fetchInApp, openShell, WAIT_MS } from './support/shell';

jest.setTimeout(120_000);

const DOMAIN = 'wingman.test';

/** The protocol the page's own document came over (`h2`, `http/1.1`). */
function navigationProtocol(target: Page | Frame): Promise<string> {
  return target.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol);
}

/** Opens a WebSocket to the page's own origin, sends `ping`, and resolves with the echo. */
function echoOverWebSocket(target: Page | Frame): Promise<string> {
  return target.evaluate(
    (timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(`wss://${location.host}/ws`, ['chat']);
        const got: string[] = [];
        const t = setTimeout(() => reject(new Error(`WebSocket timed out; got ${JSON.stringify(got)}`)), timeoutMs);
        ws.onopen = () => ws.send('ping');
        ws.onmessage = (e) => {
          got.push(String(e.data));
          // The app greets first, then echoes.
          if (got.length === 2) {
            clearTimeout(t);
            ws.close(1000);
            resolve(got[1]!);
          }
        };
        ws.onerror = () => reject(new Error('WebSocket error'));
      }),
    WAIT_MS,
  );
}

describe('Chromium over built-in TLS, HTTP/2 on by default', () => {
  let ca: TestCa;
  let cert: { certFile: string; keyFile: string };
  let app: FixtureApp;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    ca = createTestCa();
    cert = ca.issue('server', { serialHex: '5005', altNames: [`DNS:*.${DOMAIN}`, `DNS:${DOMAIN}`, 'DNS:localhost', 'IP:127.0.0.1'] });
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

  let serverPort = 0;
  /** WebSocket upgrades the server handed on over `http` (its /metrics). */
  const upgradesOver = (http: '1.1' | '2') => metricSum(serverPort, 'wingman_websocket_upgrades_total', `http="${http}"`, ca.caPem);

  /** Server on DOMAIN with its own TLS (the agent reaches it as localhost, trusting the test CA); returns the session origin. */
  async function start(agentArgs: string[] = []): Promise<string> {
    const { url: serverUrl, port } = await startServer({ WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, [
      '--domain',
      DOMAIN,
      '--tls-cert',
      cert.certFile,
      '--tls-key',
      cert.keyFile,
    ]);
    const { sessionId } = await startAgent(`https://localhost:${port}`, String(app.port), { NODE_EXTRA_CA_CERTS: ca.caFile }, agentArgs);
    expect(serverUrl).toMatch(/^https:/);
    serverPort = port;
    return `https://${sessionId}.${DOMAIN}:${port}`;
  }

  it('loads the session page over h2 with the browser client (P2P on), and the app answers', async () => {
    const origin = await start();
    const frame = await openShell(browser.page, `${origin}/one`, 'one');
    expect(await navigationProtocol(browser.page)).toBe('h2');
    const r = await fetchInApp(frame, '/api/hello?via=h2');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { via: 'h2' } });
    // The shell's signaling socket came over the page's HTTP/2 connection.
    expect(await upgradesOver('2')).toBeGreaterThanOrEqual(1);
  });

  it('loads the relayed page and its requests over h2 with P2P off, and relays its WebSocket', async () => {
    const origin = await start(['--no-p2p']);
    const { page } = browser;
    await page.goto(`${origin}/one`);
    expect(await navigationProtocol(page)).toBe('h2');
    const fetched = await page.evaluate(async () => {
      const r = await fetch('/api/hello?via=relay');
      const body = (await r.json()) as unknown;
      const entry = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/hello?via=relay')) as PerformanceResourceTiming;
      return { status: r.status, transport: r.headers.get('x-wingman-transport'), protocol: entry.nextHopProtocol, body };
    });
    expect(fetched).toMatchObject({ status: 200, transport: 'relay', protocol: 'h2', body: { hello: 'world', query: { via: 'relay' } } });
    const before = { h2: await upgradesOver('2'), h1: await upgradesOver('1.1') };
    expect(await echoOverWebSocket(page)).toBe('ping');
    // The app's WebSocket was an extended CONNECT on the page's connection, not a new HTTP/1.1 one.
    expect(await upgradesOver('2')).toBe(before.h2 + 1);
    expect(await upgradesOver('1.1')).toBe(before.h1);
  });
});
