/**
 * The inspector's Viewers panel on a session shared with `--allow-email`, in
 * real headless Chromium: a viewer that signed in with the real OpenID
 * Provider (test/helpers/oidc-provider.ts) through the real server and agent
 * is listed with the email it signed in as. Without a sign-in gate the column
 * stays hidden.
 */
import { launchChromium, type LaunchedChromium } from '../../packages/browser-client/test/e2e/helpers/browser';
import { startApp, type FixtureApp } from '../../packages/browser-client/test/e2e/support/app';
import { CookieBrowser } from '../helpers/cookie-browser';
import { startProvider } from '../helpers/oidc-provider';
import { freePort } from '../helpers/ports';
import { killAll, startAgent, startServer } from '../helpers/processes';
import { inspectorPortOf } from '../helpers/viewer-client';

jest.setTimeout(120_000);

/** UI waits: far above what loopback takes. */
const UI_TIMEOUT_MS = 15_000;

let app: FixtureApp;
let browser: LaunchedChromium;

beforeEach(async () => {
  app = await startApp();
  browser = await launchChromium();
});

afterEach(async () => {
  await browser?.close();
  await killAll();
  await app?.close();
});

it("lists a signed-in viewer with its email in the inspector's Viewers panel", async () => {
  const port = await freePort();
  const provider = await startProvider(`http://localhost:${port}/__wingman/sign-in/callback`);
  const server = await startServer({ OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: provider.clientId, OIDC_CLIENT_SECRET: provider.clientSecret }, [
    '--port',
    String(port),
  ]);
  const { agent, url } = await startAgent(server.url, String(app.port), {}, ['--inspect', '0', '--allow-email', '*@example.com']);
  const inspectorPage = await browser.context.newPage();
  await inspectorPage.goto(`http://127.0.0.1:${inspectorPortOf(agent)}/`);
  await inspectorPage.locator('#viewers[data-loaded="1"]').waitFor({ timeout: UI_TIMEOUT_MS });
  expect(await inspectorPage.locator('#viewers th.viewer-email').isVisible()).toBe(false);

  const viewer = new CookieBrowser();
  await provider.nextLogin('alice@example.com');
  expect((await viewer.navigate(`${new URL(url).origin}/`)).at(-1)!.status).toBe(200);
  const id = viewer.cookie(new URL(url).hostname, 'wingman_viewer')!.split('.')[0]!;
  const row = inspectorPage.locator(`#viewers tbody tr[data-id="${id}"]`);
  await row.locator('td.viewer-email', { hasText: 'alice@example.com' }).waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  expect(await inspectorPage.locator('#viewers th.viewer-email').textContent()).toBe('signed in as');
  await inspectorPage.close();
});
