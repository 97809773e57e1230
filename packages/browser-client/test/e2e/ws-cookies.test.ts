/**
 * A WebSocket authenticated by the app's HttpOnly session cookie (what an
 * express-session app does on upgrade) inside the shell: over P2P the shell
 * sends the Service Worker jar's cookies on the 'ws' stream; over the relay
 * the shim's native WebSocket carries a one-time ticket the SW minted with
 * its jar's cookies, which the tunnel server merges into the upgrade's
 * Cookie (docs/browser-client.md §Cookies, "WebSockets over the relay").
 * The login happens over P2P, so the session cookie is only in the SW's jar.
 */
import type { Frame, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

interface AuthSocketResult {
  /** The app's first message (only sent to an authenticated socket). */
  hello?: { user: string; url: string; cookie: string; forwardedFor: string | null };
  echo?: string;
  /** What the page's WebSocket reported: 'open' then close, or 'error' then close 1006. */
  events: string[];
  closeCode: number;
}

/** Opens ws://<origin>/ws-auth?room=1 from the app frame, echoes one message, closes. */
function authSocket(frame: Frame): Promise<AuthSocketResult> {
  return frame.evaluate(
    (timeoutMs) =>
      new Promise<AuthSocketResult>((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/ws-auth?room=1`);
        const events: string[] = [];
        const got: string[] = [];
        const t = setTimeout(() => reject(new Error(`WebSocket timed out; events ${events.join(',')}`)), timeoutMs);
        ws.onopen = () => events.push('open');
        ws.onerror = () => events.push('error');
        ws.onmessage = (e) => {
          got.push(String(e.data));
          if (got.length === 1) ws.send('ping');
          else ws.close(1000, 'done');
        };
        ws.onclose = (e) => {
          clearTimeout(t);
          events.push(`close ${e.code}`);
          resolve({ ...(got[0] ? { hello: JSON.parse(got[0]) } : {}), ...(got[1] ? { echo: got[1] } : {}), events, closeCode: e.code });
        };
      }),
    WAIT_MS,
  );
}

/** Logs in with the form while the shell is on P2P: the HttpOnly `sid` lands only in the SW's jar. */
async function loginOverP2p(page: Page, origin: string): Promise<Frame> {
  const form = await openShell(page, `${origin}/login`, 'login');
  await waitForTransport(page, 'p2p');
  await form.click('#submit');
  return waitForApp(page, 'account');
}

describe('a WebSocket authenticated by an HttpOnly session cookie, inside the shell', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
  });

  beforeEach(async () => {
    browser = await launchChromium();
  });

  afterEach(async () => {
    await browser.close();
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is authenticated over P2P (the shell sends the SW jar on the ws stream)', async () => {
    const frame = await loginOverP2p(browser.page, stack.origin);
    const r = await authSocket(frame);
    expect(r.events).toEqual(['open', 'close 1000']);
    expect(r.hello).toMatchObject({ user: 'alice', url: '/ws-auth?room=1', forwardedFor: null });
    expect(r.echo).toBe('ping');
  });

  it('is authenticated over the relay after a P2P login (the cookie is only in the SW jar)', async () => {
    const page = browser.page;
    await loginOverP2p(page, stack.origin);
    // The browser's own jar never got the HttpOnly cookie: a native WebSocket alone would be anonymous.
    expect((await browser.context.cookies(stack.origin)).map((c) => c.name)).not.toContain('sid');
    // Reload with WebRTC gone: the same shell design, relay only (P2P cannot come back to hide the bug).
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
    // The shim and SW say in the console why a socket went without a ticket; a failure shows it.
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    await page.reload();
    const frame = await waitForApp(page, 'account');
    await waitForTransport(page, 'relay', /WebRTC/);
    const r = await authSocket(frame);
    expect({ events: r.events, console: consoleLines.filter((l) => l.includes('WebSocket ticket')) }).toEqual({ events: ['open', 'close 1000'], console: [] });
    // Relayed: the tunnel server adds X-Forwarded-For; the ticket parameter never reaches the app.
    expect(r.hello).toMatchObject({ user: 'alice', url: '/ws-auth?room=1' });
    expect(r.hello?.forwardedFor).not.toBeNull();
    expect(r.hello?.cookie).toMatch(/(^|; )sid=[0-9a-f]+/);
    expect(r.hello?.cookie).toContain('theme=dark');
    expect(r.echo).toBe('ping');
  });

  it('is refused over the relay without a login (no ticket for an empty jar, no cookie)', async () => {
    const page = browser.page;
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
    const frame = await openShell(page, `${stack.origin}/login`, 'login');
    await waitForTransport(page, 'relay', /WebRTC/);
    const r = await authSocket(frame);
    expect(r.hello).toBeUndefined();
    expect(r.events).toEqual(['error', 'close 1006']);
  });
});
