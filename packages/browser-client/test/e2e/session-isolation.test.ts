/**
 * Two sessions on one tunnel server, in one browser: session A's app (a
 * hostile developer's) sets cookies for the whole tunnel domain (`Domain=`
 * it, from the server and from its own script); session B's app must
 * receive none of them, over the relay and over P2P. And an express
 * redirect built from the request lands on the session, not on the app's
 * own address.
 *
 * The tunnel domain is `wingman.test`, not `localhost`: Chromium refuses a
 * `Domain=localhost` cookie (a single-label host has no registrable domain),
 * but takes `Domain=wingman.test` on `<id>.wingman.test`, as it would for a
 * real domain not on the Public Suffix List. Chromium maps the names to
 * 127.0.0.1 and treats the two session origins as secure (Service Workers).
 */
import type { Frame, Page } from 'playwright-core';
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { freePort } from '../../../../test/helpers/redis';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { startApp, type FixtureApp } from './support/app';
import { fetchInApp, openShell, waitForApp, waitForTransport } from './support/shell';

jest.setTimeout(120_000);

let apps: FixtureApp[] = [];
/** Session A: P2P off, so its pages load at the top level straight from the relay (no shell, no Service Worker). */
let originA: string;
/** Session B: P2P on (shell, Service Worker, data channel). */
let originB: string;
let browser: LaunchedChromium;

const DOMAIN = 'wingman.test';

function launch(): Promise<LaunchedChromium> {
  return launchChromium({
    extraArgs: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`, `--unsafely-treat-insecure-origin-as-secure=${originA},${originB}`],
  });
}

beforeAll(async () => {
  apps = [await startApp(), await startApp()];
  // The session domain carries the server's port, so it is chosen before the server starts.
  const port = await freePort();
  await startServer({ LOG_LEVEL: 'warn', WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, ['--port', String(port), '--domain', `${DOMAIN}:${port}`]);
  const a = await startAgent(`http://127.0.0.1:${port}`, String(apps[0]!.port), {}, ['--no-p2p']);
  const b = await startAgent(`http://127.0.0.1:${port}`, String(apps[1]!.port));
  originA = new URL(a.url).origin;
  originB = new URL(b.url).origin;
});

afterEach(async () => {
  await browser.close();
});

afterAll(async () => {
  await killAll();
  await Promise.all(apps.map((a) => a.close()));
});

/** The Cookie header session B's app received for /api/me from its frame, and the transport that carried it. */
async function cookieAtB(frame: Frame): Promise<{ cookie: string; transport: string | null }> {
  const r = await fetchInApp(frame, '/api/me');
  return { cookie: JSON.parse(r.text).cookie, transport: r.transport };
}

/** Opens session A's /toss at the top level: its app answers with Set-Cookie: tossed=A; Domain=wingman.test. */
async function tossFromA(page: Page): Promise<void> {
  await page.goto(`${originA}/toss?v=A&domain=${DOMAIN}`);
  await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName === 'toss');
}

describe("a session's Domain cookies never reach another session", () => {
  it("keeps A's relayed Domain cookie on A's host, so B's app does not receive it over the relay", async () => {
    browser = await launch();
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
    await tossFromA(browser.page);
    // The cookie still works for A, host-only.
    expect((await browser.context.cookies(originA)).find((c) => c.name === 'tossed')).toMatchObject({ value: 'A', domain: new URL(originA).hostname });
    const frame = await openShell(browser.page, `${originB}/one`, 'one');
    await waitForTransport(browser.page, 'relay');
    const atB = await cookieAtB(frame);
    expect(atB.transport).toBe('relay');
    expect(atB.cookie).not.toContain('tossed');
  });

  it("gives B's app over P2P neither A's relayed Domain cookie nor one A's script set for the whole domain", async () => {
    browser = await launch();
    await tossFromA(browser.page);
    await browser.page.evaluate(() => {
      document.cookie = 'scripted=A; domain=wingman.test; path=/';
    });
    // Precondition: the browser took the script's cookie for the whole domain (what the Public Suffix List would prevent).
    expect((await browser.context.cookies(originB)).map((c) => c.name)).toContain('scripted');
    const frame = await openShell(browser.page, `${originB}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const atB = await cookieAtB(frame);
    expect(atB.transport).toBe('p2p');
    expect(atB.cookie).not.toContain('tossed');
    expect(atB.cookie).not.toContain('scripted');
  });
});

describe("an express redirect to the app's own address", () => {
  it.each([
    ['P2P', 'p2p'],
    ['the relay', 'relay'],
  ] as const)('lands the app frame on the session over %s', async (_label, transport) => {
    browser = await launch();
    if (transport === 'relay') {
      await browser.context.addInitScript(() => {
        delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
      });
    }
    const frame = await openShell(browser.page, `${originB}/one`, 'one');
    await waitForTransport(browser.page, transport);
    await frame.evaluate(() => {
      location.href = '/abs-redirect';
    });
    const landed = await waitForApp(browser.page, 'two');
    expect(landed.url()).toBe(`${originB}/two`);
    const app = apps[1]!;
    expect(app.requests.some((r) => r.path === '/abs-redirect')).toBe(true);
  });
});
