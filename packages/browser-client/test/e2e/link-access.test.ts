/**
 * Access by capability in Chromium (docs/PROTOCOL.md §Link access), against
 * the real tunnel server and agent with the default (no `--public`): the
 * full link opens the app — through the bootstrap page that trades the
 * link's key for the cookie — over P2P, the Service Worker's relay and the
 * plain relay; the host name alone, or a wrong key, gets "This link is
 * incomplete" and the app sees no request. The app never sees the cookie.
 */
import type { Page } from 'playwright-core';
import { LINK_ONLY_AGENT_ENV } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(180_000);

/** Waits until the page (the bootstrap page) shows `text`; returns its text. */
async function pageShows(page: Page, text: RegExp): Promise<string> {
  let body = '';
  await until(
    async () => {
      body = await page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      return text.test(body) || undefined;
    },
    { timeoutMs: WAIT_MS, what: `the page to show ${text}`, observe: () => body },
  );
  return body;
}

const noLinkCookie = (stack: Stack) => stack.app.requests.filter((r) => r.cookie?.includes('wingman_link'));

describe('a session shared by link, P2P on', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    stack = await startStack({ agentEnv: { ...LINK_ONLY_AGENT_ENV } });
  });
  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the host name alone, or a wrong key, gets no byte of the app', async () => {
    browser = await launchChromium();
    const before = stack.app.requests.length;
    await browser.page.goto(`${stack.origin}/one`);
    expect(await pageShows(browser.page, /This link is incomplete/)).toContain('ERR_LINK_INCOMPLETE');
    await browser.page.goto(`${stack.origin}/two#k=AAAAAAAAAAAAAAAAAAAAAA`);
    await pageShows(browser.page, /not \(or no longer\) valid/);
    expect(browser.page.mainFrame().childFrames()).toHaveLength(0);
    expect(stack.app.requests.length).toBe(before);
    expect((await browser.context.cookies(stack.origin)).map((c) => c.name)).not.toContain('wingman_link');
  });

  it('the full link opens the app over a verified P2P channel, and the app never sees the cookie', async () => {
    browser = await launchChromium();
    const frame = await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.verified).toBe(true);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');
    const cookie = (await browser.context.cookies(stack.origin)).find((c) => c.name === 'wingman_link');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(noLinkCookie(stack)).toEqual([]);
  });

  it('without WebRTC, the full link opens the app over the Service Worker’s relay', async () => {
    browser = await launchChromium({ webRtc: false });
    const frame = await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'relay');
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('relay');
    expect(noLinkCookie(stack)).toEqual([]);
  });
});

describe('a session shared by link, relay only (--no-p2p)', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    stack = await startStack({ agentEnv: { ...LINK_ONLY_AGENT_ENV }, agentP2p: false });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('the full link opens the app at the top level over the relay', async () => {
    const page = browser.page;
    await page.goto(`${stack.origin}/one#k=${stack.linkKey}`);
    await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName === 'one', undefined, { timeout: WAIT_MS });
    const transport = await page.evaluate(async () => (await fetch('/api/hello')).headers.get('x-wingman-transport'));
    expect(transport).toBe('relay');
    expect(noLinkCookie(stack)).toEqual([]);
  });
});
