/**
 * The app's cookies in WebKit (WebKitGTK through WebKitWebDriver): Debian's
 * WebKitGTK has no RTCPeerConnection, so the shell stays on the relay and
 * every app request goes through the Service Worker and its cookie bridge.
 * Each case runs the same actions directly against the app and through
 * Wingman, and compares what the app's scripts see (document.cookie) and
 * what the app receives.
 */
import { until } from '../../../../test/helpers/wait';
import type { WebKitFrame, WebKitPage } from './helpers/webkit';
import { fetchInApp, inPage, openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { useStackWithWebKit } from './support/webkit-stack';

jest.setTimeout(120_000);

/** document.cookie as a sorted list of pairs (the order of equal-path cookies is the browser's business). */
const cookieList = (target: WebKitPage | WebKitFrame) =>
  inPage(target, () => document.cookie, undefined).then((c) =>
    c
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)
      .sort(),
  );

describe('WebKit: the app’s cookies through the Service Worker relay', () => {
  const env = useStackWithWebKit();

  /** Opens `path` directly on the app (its own origin, its own jar) and returns document.cookie there. */
  async function direct(path: string, pageName: string, readAt = path): Promise<string[]> {
    const base = `http://127.0.0.1:${env.stack.app.port}`;
    await env.webkit.page.goto(`${base}${path}`);
    await waitForTopPage(env.webkit.page, pageName);
    if (readAt !== path) await env.webkit.page.goto(`${base}${readAt}`);
    return cookieList(env.webkit.page);
  }

  /** Opens `path` through Wingman and returns document.cookie in the app's frame. */
  async function tunnelled(path: string, pageName: string, readAt = path): Promise<string[]> {
    await openShell(env.webkit.page, `${env.stack.origin}${path}`, pageName);
    if (readAt !== path) await openShell(env.webkit.page, `${env.stack.origin}${readAt}`);
    return cookieList(await waitForApp(env.webkit.page));
  }

  it('takes the relay and says why (no RTCPeerConnection in this WebKit)', async () => {
    await openShell(env.webkit.page, `${env.stack.origin}/one`, 'one');
    const status = await waitForTransport(env.webkit.page, 'relay', /WebRTC/i);
    expect(status.reason).toMatch(/WebRTC/i);
  });

  it('keeps a script-visible cookie set by the document a 302 leads to, as direct', async () => {
    const want = await direct('/cookie-redirect', 'cookie-landing');
    expect(want).toEqual(['landed=yes']);
    expect(await tunnelled('/cookie-redirect', 'cookie-landing')).toEqual(want);
  });

  it('keeps Max-Age / Expires cookies, SameSite=Strict, scopes Path, drops an expired one, as direct', async () => {
    const want = await direct('/cookie-attrs', 'cookie-attrs');
    expect(want).toEqual(expect.arrayContaining(['expires=1', 'maxage=1', 'strict=1']));
    expect(want).not.toContain('gone=1');
    expect(await tunnelled('/cookie-attrs', 'cookie-attrs')).toEqual(want);
    const wantNested = await direct('/cookie-attrs', 'cookie-attrs', '/nested/three');
    expect(wantNested).toContain('nested=1');
    expect(await tunnelled('/cookie-attrs', 'cookie-attrs', '/nested/three')).toEqual(wantNested);
  });

  it('logs in with the form POST + 303 and sends the HttpOnly session cookie on later requests, as direct', async () => {
    const frame = await openShell(env.webkit.page, `${env.stack.origin}/login`, 'login');
    await frame.click('#submit');
    const account = await waitForApp(env.webkit.page, 'account');
    const seen = await cookieList(account);
    expect(seen).toContain('theme=dark');
    expect(seen.filter((c) => c.startsWith('sid='))).toEqual([]);
    const me = JSON.parse((await fetchInApp(account, '/api/me')).text) as { user: string | null; cookie: string };
    expect(me.user).toBe('alice');
    expect(me.cookie).toMatch(/(^|; )sid=[0-9a-f]{32}(;|$)/);
  });
});

/** Waits for a top-level page (a direct visit) whose window.pageName is `name`. */
async function waitForTopPage(page: WebKitPage, name: string): Promise<void> {
  await until(async () => (await inPage(page, () => (window as unknown as { pageName?: string }).pageName ?? null, undefined)) === name, {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: `the page ${name}`,
  });
}
