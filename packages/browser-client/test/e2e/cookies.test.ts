/**
 * Cookie login through the Service Worker's jar (docs/browser-client.md
 * §Cookies): an HttpOnly session cookie set by a form POST + redirect, sent
 * on later requests, invisible to the app's JS; script cookies visible and
 * sent; logout; and the login surviving a Service Worker restart.
 */
import type { Frame, Page } from 'playwright-core';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForApp, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

async function login(page: Page, origin: string): Promise<Frame> {
  const frame = await openShell(page, `${origin}/login`, 'login');
  await frame.click('#submit');
  return waitForApp(page, 'account');
}

type Who = { user: string | null; cookie: string; transport: string | null; route: string };

/** Who the app sees, and the path that carried it: the transport, and the route header (`<path>; reason=<why>`). */
async function me(frame: Frame): Promise<Who> {
  const r = await fetchInApp(frame, '/api/me');
  return { ...JSON.parse(r.text), transport: r.transport, route: r.headers['x-wingman-route'] ?? 'no route header' };
}

/** Requests tried before meOver gives up on the transport. */
const ROUTE_TRIES = 5;

/**
 * `me()` until a request goes over `transport` (at most ROUTE_TRIES). With a
 * channel up, the Service Worker may still send one small request over the
 * relay on purpose (its path choice: `p2p-stalls` when a loaded machine made
 * P2P look stalling, docs/browser-client.md): the cookie must reach the app
 * on whichever path, so every answer must be the user's. Returns the first
 * answer over `transport`, else the last, with every route seen.
 */
async function meOver(frame: Frame, transport: 'p2p' | 'relay'): Promise<Who & { routes: string[]; sameUser: boolean }> {
  const seen: Who[] = [];
  for (let i = 0; i < ROUTE_TRIES; i++) {
    seen.push(await me(frame));
    if (seen.at(-1)!.transport === transport) break;
  }
  const last = seen.at(-1)!;
  return { ...last, routes: seen.map((w) => w.route), sameUser: seen.every((w) => w.user === last.user) };
}

describe('cookie login over the relay (P2P impossible in the browser)', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
  });

  beforeEach(async () => {
    browser = await launchChromium();
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
  });

  afterEach(async () => {
    await browser.close();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('logs in with a form POST, keeps the HttpOnly session cookie from the app JS, and sends it on later requests', async () => {
    const frame = await login(browser.page, stack.origin);
    expect(await frame.textContent('#name')).toBe('account of alice');
    expect(new URL(browser.page.url()).pathname).toBe('/account');
    const cookies = await frame.evaluate(() => document.cookie);
    expect(cookies).toContain('theme=dark');
    expect(cookies).not.toContain('sid=');
    const who = await me(frame);
    expect(who.user).toBe('alice');
    expect(who.cookie).toMatch(/sid=[0-9a-f]+/);
    // The browser's own jar never received the HttpOnly cookie: the SW's jar is the truth.
    const browserJar = await browser.context.cookies(stack.origin);
    expect(browserJar.map((c) => c.name)).not.toContain('sid');
  });

  it("sends cookies the app's JS sets and stops sending the ones it deletes", async () => {
    const frame = await login(browser.page, stack.origin);
    await frame.evaluate(() => {
      document.cookie = 'pref=compact; path=/';
      document.cookie = 'theme=; max-age=0; path=/';
    });
    const who = await me(frame);
    expect(who.cookie).toContain('pref=compact');
    expect(who.cookie).not.toContain('theme=');
    expect(who.user).toBe('alice');
  });

  it('logs out: the Set-Cookie that clears the session reaches the jar', async () => {
    const frame = await login(browser.page, stack.origin);
    expect((await fetchInApp(frame, '/logout', { method: 'POST' })).status).toBe(200);
    expect((await me(frame)).user).toBeNull();
    await frame.goto(`${stack.origin}/account`);
    expect(await (await waitForApp(browser.page)).textContent('#name')).toBe('login required');
  });

  it('keeps the login across a Service Worker restart (jar in IndexedDB)', async () => {
    const frame = await login(browser.page, stack.origin);
    const cdp = await browser.context.newCDPSession(browser.page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    expect((await me(frame)).user).toBe('alice');
    await browser.page.reload();
    const again = await waitForApp(browser.page, 'account');
    expect(await again.textContent('#name')).toBe('account of alice');
  });
});

describe('cookie login over P2P and across switches between P2P and the relay', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  const dropChannel = (page: Page) => page.evaluate(() => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel());

  it('logs in over P2P and stays logged in over the relay and back on P2P', async () => {
    const page = browser.page;
    const form = await openShell(page, `${stack.origin}/login`, 'login');
    await waitForTransport(page, 'p2p');
    const loginsBefore = stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/login').length;
    await form.click('#submit');
    const frame = await waitForApp(page, 'account');
    expect(await frame.textContent('#name')).toBe('account of alice');
    expect(stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/login')).toHaveLength(loginsBefore + 1);
    expect(await frame.evaluate(() => document.cookie)).toBe('theme=dark');
    expect(await meOver(frame, 'p2p')).toEqual(expect.objectContaining({ user: 'alice', transport: 'p2p', sameUser: true }));

    expect(await dropChannel(page)).toBe(true);
    expect(await me(frame)).toEqual(expect.objectContaining({ user: 'alice', transport: 'relay' }));

    await waitForTransport(page, 'p2p');
    expect(await meOver(frame, 'p2p')).toEqual(expect.objectContaining({ user: 'alice', transport: 'p2p', sameUser: true }));
  });

  it('logs out over the relay and is logged out over P2P too', async () => {
    const page = browser.page;
    const form = await openShell(page, `${stack.origin}/login`, 'login');
    await waitForTransport(page, 'p2p');
    await form.click('#submit');
    const frame = await waitForApp(page, 'account');
    expect(await dropChannel(page)).toBe(true);
    const out = await fetchInApp(frame, '/logout', { method: 'POST' });
    expect(out).toMatchObject({ status: 200, transport: 'relay' });
    await waitForTransport(page, 'p2p');
    expect(await meOver(frame, 'p2p')).toEqual(expect.objectContaining({ user: null, transport: 'p2p', sameUser: true }));
  });
});
