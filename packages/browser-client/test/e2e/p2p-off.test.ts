/**
 * With P2P disabled — by the tunnel server (P2P_ENABLED=false) or by the
 * agent (--no-p2p) — a session behaves exactly like the relay: no shell, no
 * Service Worker, the app at the top level.
 */
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { startStack, type Stack, type StackOptions } from './support/stack';

jest.setTimeout(90_000);

const CASES: Array<[string, StackOptions]> = [
  ['the tunnel server (P2P_ENABLED=false)', { serverEnv: { P2P_ENABLED: 'false' } }],
  ['the agent (--no-p2p)', { agentP2p: false }],
];

describe.each(CASES)('a session with P2P disabled by %s', (_name, options) => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack(options);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function topLevelApp(page: Page, path: string): Promise<void> {
    await page.goto(`${stack.origin}${path}`);
    await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName !== undefined, undefined, { timeout: 20_000 });
  }

  it('serves the app itself at the top level, with relay transport and no Service Worker', async () => {
    const page = browser.page;
    await topLevelApp(page, '/one?x=1');
    expect(page.mainFrame().childFrames()).toHaveLength(0);
    expect(await page.evaluate(() => (window as unknown as { pageName: string }).pageName)).toBe('one');
    const r = await page.evaluate(async () => {
      const res = await fetch('/api/hello');
      return {
        transport: res.headers.get('x-wingman-transport'),
        sw: navigator.serviceWorker.controller !== null,
        registrations: (await navigator.serviceWorker.getRegistrations()).length,
      };
    });
    expect(r).toEqual({ transport: 'relay', sw: false, registrations: 0 });
    expect(await page.evaluate(() => (window as unknown as { wsIsShim: boolean }).wsIsShim)).toBe(false);
  });

  it('logs in with the browser’s own cookies, as without Wingman', async () => {
    const page = browser.page;
    await topLevelApp(page, '/login');
    await Promise.all([page.waitForURL((u) => u.pathname === '/account', { timeout: 20_000 }), page.click('#submit')]);
    expect(await page.textContent('#name')).toBe('account of alice');
    const jar = await browser.context.cookies(stack.origin);
    expect(jar.find((c) => c.name === 'sid')?.httpOnly).toBe(true);
  });
});
