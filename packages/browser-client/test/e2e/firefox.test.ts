/**
 * The browser client in Firefox (Debian firefox-esr, headless, puppeteer-core
 * over WebDriver BiDi): the shell's data channel to the agent's wrtc, a bulk
 * download and an upload over it, a WebSocket through the shim, a cookie
 * login over it (Firefox's Cookie Store items
 * carry only name and value), and a P2P-off session over the relay. The
 * Chromium suites cover each path in depth; these check that what they cover
 * also holds in the other engine reviewers use.
 */
import type { Frame } from 'puppeteer-core';
import { unregisterServiceWorkers } from './helpers/browser';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { patternSha256 } from './support/app';
import { download, settleBulkFigures, upload, websocketEcho } from './support/in-app';
import { fetchInApp, inPage, openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

const textOf = (frame: Frame, selector: string) => inPage(frame, (s) => document.querySelector(s)?.textContent ?? null, selector);

async function me(frame: Frame): Promise<{ user: string | null; cookie: string; transport: string | null }> {
  const r = await fetchInApp(frame, '/api/me');
  return { ...JSON.parse(r.text), transport: r.transport };
}

describe('Firefox with P2P on', () => {
  let stack: Stack;
  let firefox: LaunchedFirefox;

  beforeAll(async () => {
    stack = await startStack();
    firefox = await launchFirefox();
  });

  afterEach(async () => {
    await unregisterServiceWorkers(firefox.page).catch(() => undefined);
  });

  afterAll(async () => {
    await firefox?.close();
    await stack?.close();
  });

  /** Opens the shell at `path` and waits for the app in its frame and for P2P. */
  async function p2pApp(path = '/one', name = 'one'): Promise<Frame> {
    const frame = await openShell(firefox.page, `${stack.origin}${path}`, name);
    await waitForTransport(firefox.page, 'p2p');
    return frame;
  }

  /** Logs in as alice with the fixture's form POST over P2P; resolves with the account page's frame. */
  async function loginOverP2p(): Promise<Frame> {
    const form = await p2pApp('/login', 'login');
    await form.click('#submit');
    return waitForApp(firefox.page, 'account');
  }

  it('loads the session page, moves the app’s fetch() calls to P2P once the channel is open, and measures the path with the loss probe', async () => {
    const page = firefox.page;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    const status = await waitForTransport(page, 'p2p');
    expect(status.connectMs).toBeGreaterThan(0);
    const r = await fetchInApp(frame, '/api/hello?via=p2p');
    expect(r.transport).toBe('p2p');
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { via: 'p2p' }, forwardedFor: null, forwardedHost: new URL(stack.origin).host });
    // The loss probe's negotiated channel works in Firefox's SCTP too: the agent answered every probe (docs/PROTOCOL.md §Loss probe).
    type Shell = { __wingman: { status(): { loss?: { sent: number; lost: number }; lossy?: boolean } } };
    await page.waitForFunction(() => (window as unknown as Shell).__wingman.status().loss !== undefined, { timeout: WAIT_MS });
    const probed = await page.evaluate(() => {
      const st = (window as unknown as Shell).__wingman.status();
      return { loss: st.loss, lossy: st.lossy ?? false };
    });
    expect(probed).toEqual({ loss: { sent: 128, lost: 0 }, lossy: false });
  });

  it('downloads 5 MiB over P2P with the SHA-256 the app sent', async () => {
    const frame = await p2pApp();
    await settleBulkFigures(frame);
    expect(await download(frame, 5 * MiB)).toEqual({ sha: patternSha256(5 * MiB), bytes: 5 * MiB, transport: 'p2p' });
  });

  it('uploads 3 MiB over P2P and the app hashes the same bytes (request body without a stream in the SW)', async () => {
    const frame = await p2pApp();
    const up = await upload(frame, 3 * MiB);
    expect(up.transport).toBe('p2p');
    expect(up.remote).toEqual({ sha: up.localSha, length: 3 * MiB });
  });

  it('echoes a WebSocket over P2P through the shim', async () => {
    const frame = await p2pApp();
    const r = await websocketEcho(frame);
    expect(r.hello).toMatchObject({ protocol: 'chat', forwardedFor: null });
    expect(r.echo).toBe('ping');
    expect(r.binary).toEqual([1, 2, 3]);
    expect(r.closeCode).toBe(1000);
  });

  it('logs in over P2P with an HttpOnly session cookie that requests carry and the app’s JS never sees', async () => {
    const loginsBefore = stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/login').length;
    const frame = await loginOverP2p();
    expect(await textOf(frame, '#name')).toBe('account of alice');
    expect(stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/login')).toHaveLength(loginsBefore + 1);
    // The script-visible cookie was mirrored with the Cookie Store API; the HttpOnly one stays in the SW's jar.
    expect(await inPage(frame, () => document.cookie, undefined)).toBe('theme=dark');
    const who = await me(frame);
    expect(who).toMatchObject({ user: 'alice', transport: 'p2p' });
    expect(who.cookie).toMatch(/(^|; )sid=[0-9a-f]{32}(;|$)/);
    // The browser's own jar never received the HttpOnly cookie: the SW's jar is the truth.
    const browserJar = await firefox.browser.cookies();
    expect(browserJar.map((c) => c.name)).toContain('theme');
    expect(browserJar.map((c) => c.name)).not.toContain('sid');
  });

  it('sends cookies the app’s JS sets over P2P and stops sending the ones it deletes (Cookie Store items without a path)', async () => {
    const frame = await loginOverP2p();
    await inPage(
      frame,
      () => {
        document.cookie = 'pref=compact; path=/';
        document.cookie = 'theme=; max-age=0; path=/';
      },
      undefined,
    );
    const who = await me(frame);
    expect(who).toMatchObject({ user: 'alice', transport: 'p2p' });
    expect(who.cookie).toContain('pref=compact');
    expect(who.cookie).not.toContain('theme=');
  });
});

describe('Firefox with P2P off for the session (wingman http --no-p2p)', () => {
  let stack: Stack;
  let firefox: LaunchedFirefox;

  beforeAll(async () => {
    stack = await startStack({ agentP2p: false });
    firefox = await launchFirefox();
  });

  afterAll(async () => {
    await firefox?.close();
    await stack?.close();
  });

  it('serves the app itself at the top level over the relay, with no shell and no Service Worker', async () => {
    const page = firefox.page;
    await page.goto(`${stack.origin}/one?x=1`);
    await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName !== undefined, { timeout: WAIT_MS });
    expect(page.mainFrame().childFrames()).toHaveLength(0);
    const r = await inPage(
      page,
      async () => {
        const res = await fetch('/api/hello');
        const body = (await res.json()) as { hello: string };
        return {
          pageName: (window as unknown as { pageName: string }).pageName,
          hello: body.hello,
          transport: res.headers.get('x-wingman-transport'),
          controlled: navigator.serviceWorker.controller !== null,
          registrations: (await navigator.serviceWorker.getRegistrations()).length,
        };
      },
      undefined,
    );
    expect(r).toEqual({ pageName: 'one', hello: 'world', transport: 'relay', controlled: false, registrations: 0 });
  });
});
