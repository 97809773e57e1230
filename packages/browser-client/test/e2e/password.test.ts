/**
 * A password-protected session (`wingman http --password`) in a real
 * browser: without the password the reviewer gets the 401 page and nothing
 * of the app; with it (the browser's Basic prompt, answered by Playwright's
 * httpCredentials) the shell, the Service Worker, signaling and P2P all work,
 * over the relay too, and the app never sees the gate's cookie or password.
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

const PASSWORD = 'review-2026';

describe('a password-protected session in Chromium', () => {
  let stack: Stack;
  const browsers: LaunchedChromium[] = [];

  afterEach(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await stack?.close();
  });

  it('shows the 401 page and none of the app to a reviewer without the password', async () => {
    stack = await startStack({ agentArgs: ['--password', PASSWORD] });
    const b = await launchChromium();
    browsers.push(b);
    // Chromium answers the Basic challenge with nothing (no prompt when headless): the navigation fails.
    await expect(b.page.goto(`${stack.origin}/one`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    expect(b.page.frames()).toHaveLength(1); // no shell, no app frame
    expect(b.context.serviceWorkers()).toHaveLength(0);
    expect(await b.context.cookies(stack.origin)).toEqual([]);
    // What a reviewer who cancels the prompt reads: the 401 page, with the challenge.
    // (Playwright's request API resolves names in Node, where *.localhost has no DNS: 127.0.0.1 + Host.)
    const origin = new URL(stack.origin);
    const r = await b.context.request.get(`http://127.0.0.1:${origin.port}/one`, { headers: { host: origin.host } });
    expect(r.status()).toBe(401);
    expect(r.headers()['www-authenticate']).toMatch(/^Basic realm="Wingman session"/);
    expect(await r.text()).toContain('This shared app needs a password');
    await r.dispose();
  });

  it("serves the app over P2P once the password is given, and the app never sees the gate's credentials", async () => {
    stack = await startStack({ agentArgs: ['--password', PASSWORD] });
    const b = await launchChromium({ httpCredentials: { username: 'reviewer', password: PASSWORD } });
    browsers.push(b);
    const frame = await openShell(b.page, `${stack.origin}/one`, 'one');
    await waitForTransport(b.page, 'p2p');
    const me = await fetchInApp(frame, '/api/me');
    expect(me.transport).toBe('p2p');
    expect(JSON.parse(me.text).cookie).not.toContain('wingman_access');
    // The gate's cookie is HttpOnly: the app's JS cannot read it either.
    expect(await frame.evaluate(() => document.cookie)).not.toContain('wingman_access');
    const cookies = await b.context.cookies(stack.origin);
    expect(cookies.find((c) => c.name === 'wingman_access')).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
  });

  it('works over the relay the same way (P2P off for the session)', async () => {
    stack = await startStack({ agentArgs: ['--password', PASSWORD], agentP2p: false });
    const b = await launchChromium({ httpCredentials: { username: '', password: PASSWORD } });
    browsers.push(b);
    const res = await b.page.goto(`${stack.origin}/api/hello`);
    expect(res?.status()).toBe(200);
    const r = await b.page.evaluate(async () => {
      const x = await fetch('/api/me');
      return { transport: x.headers.get('x-wingman-transport'), body: (await x.json()) as { cookie: string } };
    });
    expect(r.transport).toBe('relay');
    expect(r.body.cookie).not.toContain('wingman_access');
  });
});
