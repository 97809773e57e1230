/**
 * Access by capability in real browsers (docs/PROTOCOL.md §Link access),
 * against the real tunnel server and agent with the default (no
 * `--public`): the full link opens the app through the bootstrap page that
 * trades the link's key for the cookie — in Chromium over P2P, the Service
 * Worker's relay and the plain relay, and on a plain-http domain where the
 * page has no WebCrypto; in WebKit on its relay path. The host name alone,
 * or a wrong key, gets "This link is incomplete" and the app sees no
 * request. The app never sees the cookie nor the key.
 */
import type { Page } from 'playwright-core';
import { killAll, LINK_ONLY_AGENT_ENV, startAgent, startServer } from '../../../../test/helpers/processes';
import { freePort } from '../../../../test/helpers/redis';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { startApp, type FixtureApp } from './support/app';
import { startStack, type Stack } from './support/stack';
import { useStackWithWebKit } from './support/webkit-stack';

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

describe('a session shared by link in WebKit (no WebRTC: the Service Worker’s relay)', () => {
  const env = useStackWithWebKit({ agentEnv: { ...LINK_ONLY_AGENT_ENV } });

  it('the full link opens the app, and the app never sees the cookie', async () => {
    const frame = await openShell(env.webkit.page, `${env.stack.origin}/one#k=${env.stack.linkKey}`, 'one');
    await waitForTransport(env.webkit.page, 'relay', /WebRTC/);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('relay');
    expect(noLinkCookie(env.stack)).toEqual([]);
  });
});

describe('a session shared by link on a plain-http domain (no WebCrypto in the page)', () => {
  const DOMAIN = 'wingman.test';
  let app: FixtureApp;
  let browser: LaunchedChromium;
  let link: string;
  beforeAll(async () => {
    app = await startApp();
    // The session domain carries the server's port, so it is chosen before the server starts.
    const port = await freePort();
    await startServer({ LOG_LEVEL: 'warn', WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, ['--port', String(port), '--domain', `${DOMAIN}:${port}`]);
    ({ link } = await startAgent(`http://127.0.0.1:${port}`, String(app.port), { ...LINK_ONLY_AGENT_ENV }, ['--no-p2p']));
    // A name other than *.localhost over http: not a secure context, so crypto.subtle is missing.
    browser = await launchChromium({ extraArgs: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`] });
  });
  afterAll(async () => {
    await browser?.close();
    await killAll();
    await app?.close();
  });

  it('the full link opens the app: the bootstrap page derives the token without WebCrypto', async () => {
    const page = browser.page;
    await page.goto(link.replace('/#', '/one#'));
    await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName === 'one', undefined, { timeout: WAIT_MS });
    expect(await page.evaluate(() => ({ secure: window.isSecureContext, subtle: globalThis.crypto?.subtle !== undefined, hash: location.hash }))).toEqual({
      secure: false,
      subtle: false,
      hash: '',
    });
    expect(app.requests.filter((r) => r.cookie?.includes('wingman_link'))).toEqual([]);
  });
});
