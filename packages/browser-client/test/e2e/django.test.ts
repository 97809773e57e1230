/**
 * Stock Django (Debian `python3-django`, settings as `startproject` writes
 * them: `X-Frame-Options: DENY`, CSRF with Origin checks) through Wingman:
 * the admin's login page renders in the shell and the login succeeds, over
 * P2P and over the Service Worker's relay in Chromium and Firefox, over the
 * relay in WebKit (which has no WebRTC here) — as it does straight
 * against runserver in the same browser.
 */
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { useEnginePairs, WEBRTC_ENGINES } from './helpers/engines';
import { DJANGO_ADMIN_PASSWORD, DJANGO_ADMIN_USER, startDjango, type DjangoApp } from './support/django';
import { inPage, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import { shellAppFrame, useWebKit } from './support/webkit-stack';

jest.setTimeout(180_000);

describe('stock Django through Wingman', () => {
  // Launched from the start: the Firefox pair starts while the app, the tunnel server and Chromium's tests run.
  const pairs = useEnginePairs(WEBRTC_ENGINES);
  let django: DjangoApp;
  let origin: string;

  beforeAll(async () => {
    // The tunnel server starts while Django's project is set up (afterAll ends what started, whatever failed).
    const [app, server] = await Promise.allSettled([startDjango().then((d) => (django = d)), startServer({ LOG_LEVEL: 'warn' })]);
    if (app.status === 'rejected') throw app.reason;
    if (server.status === 'rejected') throw server.reason;
    const { sessionId } = await startAgent(`http://localhost:${server.value.port}`, String(django.port));
    origin = `http://${sessionId}.localhost:${server.value.port}`;
  });

  afterAll(async () => {
    await killAll();
    await django?.close();
  });

  const title = (target: AnyFrame | AnyPage) => inPage(target, () => document.title, undefined);

  /** Waits for the admin's login form in `target`, fills it and submits it; resolves with the title of the page that follows. */
  async function adminLogin(target: () => AnyFrame | AnyPage | undefined): Promise<string> {
    await until(async () => (/Log in/.test(await title(target()!).catch(() => '')) ? true : undefined), {
      timeoutMs: WAIT_MS,
      intervalMs: 50,
      what: "Django's admin login form",
    });
    await inPage(
      target()!,
      ({ user, password }) => {
        (document.getElementById('id_username') as HTMLInputElement).value = user;
        (document.getElementById('id_password') as HTMLInputElement).value = password;
        (document.getElementById('login-form') as HTMLFormElement).submit();
      },
      { user: DJANGO_ADMIN_USER, password: DJANGO_ADMIN_PASSWORD },
    );
    let last = '';
    const after = await until(
      async () => {
        last = await title(target()!).catch(() => last);
        return /Log in/.test(last) || last === '' ? undefined : last;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the page after the login', observe: () => last },
    );
    // A refusal names Django's reason (runserver logs "Forbidden (<reason>): <path>"), so a failure says which check refused.
    return after.startsWith('403') ? `${after}: ${django.forbiddenReason() ?? 'no reason logged'}` : after;
  }

  describe.each(WEBRTC_ENGINES)('in %s', (engine) => {
    const engines = pairs.pair(engine);

    it('logs in to the admin straight against runserver (the reference)', async () => {
      const page = engines.browser.page;
      await page.goto(`http://127.0.0.1:${django.port}/admin/login/?next=/admin/`);
      expect(await adminLogin(() => page)).toMatch(/Site administration/);
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)('renders the admin login in the shell and logs in over %s', async (_name, transport) => {
      const page = engines.pageFor(transport);
      await page.goto(`${origin}/admin/login/?next=/admin/`);
      await waitForTransport(page, transport);
      const frame = (): AnyFrame | undefined => (page as { mainFrame(): { childFrames(): AnyFrame[] } }).mainFrame().childFrames()[0];
      expect(await adminLogin(frame)).toMatch(/Site administration/);
      expect(await inPage(frame()!, () => document.getElementById('user-tools')?.textContent ?? '', undefined)).toContain(DJANGO_ADMIN_USER);
    });
  });

  describe('in WebKit (no WebRTC: the Service Worker relay)', () => {
    const env = useWebKit();

    it('logs in to the admin straight against runserver, and through the shell over the relay, alike', async () => {
      const page = env.webkit.page;
      await page.goto(`http://127.0.0.1:${django.port}/admin/login/?next=/admin/`);
      const direct = await adminLogin(() => page);
      expect(direct).toMatch(/Site administration/);

      await page.goto(`${origin}/admin/login/?next=/admin/`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      const frame = await shellAppFrame(page);
      expect(await adminLogin(() => frame)).toBe(direct);
      expect(await inPage(frame, () => document.getElementById('user-tools')?.textContent ?? '', undefined)).toContain(DJANGO_ADMIN_USER);
    });
  });
});
