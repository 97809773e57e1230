/**
 * The installed `wingman-tunnel` package has the checkout's features, in
 * real headless Chromium: the installed `wingman http --approve --inspect 0`
 * starts its inspector (whose page is read from the package at run time), a
 * reviewer waits until the developer admits it with a click in that page,
 * the app then goes peer-to-peer, and the viewer diagnostics page served by
 * the installed `wingman-server` says so.
 */
import { launchChromium, type LaunchedChromium } from '../../packages/browser-client/test/e2e/helpers/browser';
import { startApp, type FixtureApp } from '../../packages/browser-client/test/e2e/support/app';
import { fetchInApp, routeOf, waitForApp, waitForTransport, WAIT_MS } from '../../packages/browser-client/test/e2e/support/shell';
import { installedPackageForFile, startInstalledTunnel } from '../helpers/installed-package';
import { killAll } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, untilTrue } from '../helpers/viewer-client';

jest.setTimeout(120_000);

const installed = installedPackageForFile();
let app: FixtureApp;
let browser: LaunchedChromium;

beforeEach(async () => {
  app = await startApp();
  browser = await launchChromium();
});

// The browser is this test's own: close() ends its Service Worker with its profile. No unregister() first: it waits
// behind any job the browser holds for the worker's scope, and one such job, held for good, left it pending forever.
afterEach(async () => {
  await browser?.close();
  await killAll();
  await app?.close();
});

describe('the installed package in Chromium', () => {
  it('admits a waiting reviewer from the inspector page of the installed agent, serves it P2P and shows that on the diagnostics page', async () => {
    const t = await startInstalledTunnel(installed(), app.port, ['--approve', '--inspect', '0']);
    // With --json, warnings are JSON lines on stderr, before the ready line.
    expect(t.agent.stderr()).not.toMatch(/WARN_INSPECTOR_UNAVAILABLE|WARN_APPROVE_UNREACHABLE/);
    const inspector = inspectorPortOf(t.agent);

    const inspectorPage = await browser.context.newPage();
    await inspectorPage.goto(`http://127.0.0.1:${inspector}/`);
    await inspectorPage.locator('#live', { hasText: 'live' }).waitFor({ timeout: WAIT_MS });

    const page = browser.page;
    expect((await page.goto(`${t.url}one`))?.status()).toBe(403);
    let viewerId = '';
    await untilTrue('a waiting viewer in the inspector', async () => {
      const { json } = await inspectorApi(inspector, '/api/viewers');
      viewerId = json.viewers.find((v: { state: string }) => v.state === 'waiting')?.id ?? '';
      return viewerId !== '';
    });
    const row = inspectorPage.locator(`#viewers tbody tr[data-id="${viewerId}"]`);
    await row.locator('td', { hasText: 'waiting' }).waitFor({ timeout: WAIT_MS });
    await row.locator('button[data-action=admit]').click();

    const frame = await waitForApp(page, 'one');
    const status = await waitForTransport(page, 'p2p');
    expect(routeOf(await fetchInApp(frame, '/api/hello'), status)).toMatch(/^p2p /);
    await row.locator('td', { hasText: 'admitted' }).waitFor({ timeout: WAIT_MS });

    const diag = await browser.context.newPage();
    await diag.goto(`${t.url}__wingman/diagnostics`);
    await diag.waitForSelector('body[data-ready="1"]', { timeout: WAIT_MS });
    const report = JSON.parse((await diag.textContent('#report')) ?? '') as { transport: string; shells: Array<{ transport: string }> };
    expect(report.transport).toBe('p2p');
    expect(report.shells.map((s) => s.transport)).toEqual(['p2p']);
    await diag.close();
    await inspectorPage.close();
  });
});
