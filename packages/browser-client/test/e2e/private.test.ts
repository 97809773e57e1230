/**
 * A private session (`wingman http --private`) in Chromium and Firefox,
 * against the real tunnel server and agent: with the link's key the shell
 * loads the app only once its channel is verified, and every request of the
 * app, its first document included, goes over that channel (the tunnel
 * server would refuse them); without the key the server's page says the
 * link is incomplete, and the app sees no request at all.
 */
import type { Page } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { fetchInApp, inPage, openShell, waitForTransport, WAIT_MS, type AnyPage } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(180_000);

function scenarios(ctx: () => { stack: Stack; newTab(): Promise<AnyPage> }): void {
  it('without the key: the page says the link is incomplete, and the app sees nothing', async () => {
    const { stack } = ctx();
    const tab = await ctx().newTab();
    await (tab as Page).goto(`${stack.origin}/one`);
    // A private session opens only to the full link (docs/PROTOCOL.md §Link access): no shell, no frame.
    let text = '';
    await until(
      async () => {
        text = await inPage(tab, () => document.body?.innerText ?? '', undefined).catch(() => '');
        return /This link is incomplete/.test(text) || undefined;
      },
      { timeoutMs: WAIT_MS, what: 'the incomplete-link page', observe: () => text },
    );
    expect(text).toContain('ERR_LINK_INCOMPLETE');
    expect(stack.app.requests).toEqual([]);
    await (tab as Page).close();
  });

  it('with the key: the app loads over the verified channel, its document and its fetches', async () => {
    const { stack } = ctx();
    const tab = await ctx().newTab();
    const frame = await openShell(tab as Page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    const status = await waitForTransport(tab, 'p2p');
    expect(status.verified).toBe(true);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');
    // Chromium's own request for the shell's icon reaches the app too (over the channel once it is up, as it would direct).
    expect(stack.app.requests.map((r) => r.path).filter((p) => p !== '/favicon.ico')).toEqual(['/one', '/api/hello']);
    await (tab as Page).close();
  });
}

describe('a private session in Chromium', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    stack = await startStack({ agentArgs: ['--private'] });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  scenarios(() => ({ stack, newTab: () => browser.context.newPage() }));
});

describe('a private session in Firefox', () => {
  let stack: Stack;
  let firefox: LaunchedFirefox;
  beforeAll(async () => {
    stack = await startStack({ agentArgs: ['--private'] });
    firefox = await launchFirefox();
  });
  afterAll(async () => {
    await firefox?.close();
    await stack?.close();
  });
  scenarios(() => ({ stack, newTab: (): Promise<PuppeteerPage> => firefox.browser.newPage() }));
});
