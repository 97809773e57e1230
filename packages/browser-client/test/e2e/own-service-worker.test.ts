/**
 * An app with a Service Worker of its own (a PWA): when its page registers
 * one, Wingman steps aside for that browser. The app's worker registers and
 * controls its pages as it would without Wingman (`ready` resolves to the
 * app's registration, its cache answers), the browser is served the app
 * over the relay, requests still reach the app, without Wingman's cookie,
 * and the shell's badge and the agent say why that browser left P2P. In
 * Chromium, and in WebKit (WebKitGTK: whose shell is on the relay anyway,
 * without WebRTC).
 */
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { inPage, WAIT_MS, type AnyPage } from './support/shell';
import { startStack, type Stack } from './support/stack';
import { useStackWithWebKit } from './support/webkit-stack';

jest.setTimeout(90_000);

interface PwaState {
  pageName: string | null;
  shell: boolean;
  controller: string | null;
  registerError: string | null;
}

/** What the top-level page shows: the app's page (its name), the shell or not, and its controlling worker. */
function pwaState(page: AnyPage): Promise<PwaState> {
  return inPage(
    page,
    () => {
      const w = window as unknown as { pageName?: string; __wingman?: unknown; registerError?: string };
      return {
        pageName: w.pageName ?? null,
        shell: w.__wingman !== undefined,
        controller: navigator.serviceWorker.controller?.scriptURL ?? null,
        registerError: w.registerError ?? null,
      };
    },
    undefined,
  );
}

/** Waits until the top-level page is the app's `/pwa`, without the shell, controlled by a worker; returns that state. */
async function appAtTopLevel(page: AnyPage): Promise<PwaState | undefined> {
  let last: PwaState | undefined;
  await until(
    async () => {
      last = await pwaState(page).catch(() => last);
      return last?.pageName === 'pwa' && !last.shell && last.controller !== null;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the app’s page at the top level, controlled by its own worker', observe: () => last },
  );
  return last;
}

/** A stack and a Chromium for one describe block, closed after it. */
function useChromiumStack(): { readonly stack: Stack; readonly browser: LaunchedChromium } {
  const env = {} as { stack: Stack; browser: LaunchedChromium };
  beforeAll(async () => {
    env.stack = await startStack();
    env.browser = await launchChromium();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.stack?.close();
  });
  return env;
}

describe('the app’s own Service Worker', () => {
  const env = useChromiumStack();
  const state = () => pwaState(env.browser.page);

  it('registers and controls the app’s pages; ready is the app’s registration; requests reach the app', async () => {
    const page = env.browser.page;
    // Every text the shell's badge shows, kept in sessionStorage: it outlives the shell, which the app's page replaces.
    await page.addInitScript(() => {
      const seen = (t: string) => {
        const all = JSON.parse(sessionStorage.getItem('badge-texts') ?? '[]') as string[];
        if (all.at(-1) !== t) sessionStorage.setItem('badge-texts', JSON.stringify([...all, t]));
      };
      new MutationObserver((_m, observer) => {
        const text = document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t');
        if (!text) return;
        observer.disconnect();
        seen(text.textContent ?? '');
        new MutationObserver(() => seen(text.textContent ?? '')).observe(text, { childList: true, characterData: true, subtree: true });
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${env.stack.origin}/pwa`);
    // The shell loads the app in its frame, the app registers /sw.js, the shell steps aside and
    // the page is served by the app at the top level, where the registration runs natively.
    const last = await appAtTopLevel(page);
    expect(last).toEqual({ pageName: 'pwa', shell: false, controller: `${env.stack.origin}/sw.js`, registerError: null });
    expect(new URL(page.url()).pathname).toBe('/pwa');
    // While the shell was there, its badge said why this browser goes over the relay.
    expect(await page.evaluate(() => JSON.parse(sessionStorage.getItem('badge-texts') ?? '[]') as string[])).toContain(
      'Relay · the app runs its own Service Worker',
    );
    // The developer is told why that browser left P2P (`wingman http --json`: a warning event).
    const told = await env.stack.agent.waitForLine(/WARN_VIEWER_OWN_SW/, { timeoutMs: WAIT_MS, stream: 'both' });
    expect(JSON.parse(told)).toMatchObject({ event: 'warning', code: 'WARN_VIEWER_OWN_SW', message: expect.stringContaining('/sw.js') });

    const ready = await inPage(page, async () => (await navigator.serviceWorker.ready).active?.scriptURL ?? null, undefined);
    expect(ready).toBe(`${env.stack.origin}/sw.js`);
    const registrations = await inPage(page, async () => (await navigator.serviceWorker.getRegistrations()).map((r) => r.active?.scriptURL ?? null), undefined);
    expect(registrations).toEqual([`${env.stack.origin}/sw.js`]);

    const cached = await inPage(page, async () => (await fetch('/cached')).text(), undefined);
    expect(cached).toBe('from the app cache');

    const before = env.stack.app.requests.length;
    const hello = await inPage(page, async () => (await fetch('/api/hello?from=pwa')).json() as Promise<{ hello: string }>, undefined);
    expect(hello).toMatchObject({ hello: 'world' });
    const reached = env.stack.app.requests.slice(before).filter((r) => r.path === '/api/hello?from=pwa');
    expect(reached).toHaveLength(1);
    // Wingman's own cookie never reaches the app.
    expect(env.stack.app.requests.some((r) => (r.cookie ?? '').includes('wingman'))).toBe(false);
    // The app's own scripts never see it either.
    expect(await inPage(page, () => document.cookie, undefined)).toBe('');
  });

  it('keeps serving that browser the app itself on a reload (the app’s worker stays in control)', async () => {
    await env.browser.page.reload();
    let last: PwaState | undefined;
    await until(
      async () => {
        last = await state().catch(() => last);
        return last?.pageName === 'pwa' && last.controller !== null;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the app’s page after a reload', observe: () => last },
    );
    expect(last).toMatchObject({ shell: false, controller: `${env.stack.origin}/sw.js` });
  });
});

describe('the app’s own Service Worker in WebKit (no WebRTC: the shell was on the relay already)', () => {
  const env = useStackWithWebKit();

  it('registers and controls the app’s page; ready is the app’s registration; requests reach the app', async () => {
    const page = env.webkit.page;
    await page.goto(`${env.stack.origin}/pwa`);
    const last = await appAtTopLevel(page);
    expect(last).toEqual({ pageName: 'pwa', shell: false, controller: `${env.stack.origin}/sw.js`, registerError: null });
    const ready = await inPage(page, async () => (await navigator.serviceWorker.ready).active?.scriptURL ?? null, undefined);
    expect(ready).toBe(`${env.stack.origin}/sw.js`);
    expect(await inPage(page, async () => (await fetch('/cached')).text(), undefined)).toBe('from the app cache');
    const hello = await inPage(page, async () => (await fetch('/api/hello?from=webkit-pwa')).json() as Promise<{ hello: string }>, undefined);
    expect(hello).toMatchObject({ hello: 'world' });
    expect(env.stack.app.requests.filter((r) => r.path === '/api/hello?from=webkit-pwa')).toHaveLength(1);
  });
});
