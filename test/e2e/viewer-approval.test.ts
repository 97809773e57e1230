/**
 * `wingman http --approve` in real headless Chromium: the reviewer's browser
 * sees the waiting page, and once the developer admits it through the
 * inspector API the page reloads by itself into the app, which then goes
 * peer-to-peer. Revoking it afterwards closes its P2P channel and the app's
 * next request is refused.
 */
import { launchChromium, type LaunchedChromium } from '../../packages/browser-client/test/e2e/helpers/browser';
import { startApp, type FixtureApp } from '../../packages/browser-client/test/e2e/support/app';
import { fetchInApp, waitForApp, waitForTransport } from '../../packages/browser-client/test/e2e/support/shell';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, untilTrue } from '../helpers/viewer-client';

jest.setTimeout(120_000);

/** UI waits: far above what loopback takes. */
const UI_TIMEOUT_MS = 15_000;

let app: FixtureApp;
let t: Tunnel;
let inspector: number;
let browser: LaunchedChromium;

beforeEach(async () => {
  app = await startApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--inspect', '0', '--approve'] });
  inspector = inspectorPortOf(t.agent);
  browser = await launchChromium();
});

// The browser is this test's own: close() ends its Service Worker with its profile. No unregister() first: it waits
// behind any job the browser holds for the worker's scope, and one such job, held for good, left it pending forever.
afterEach(async () => {
  await browser?.close();
  await killAll();
  await app?.close();
});

async function waitingViewer(): Promise<{ id: string; userAgent: string; address: string }> {
  let found: { id: string; userAgent: string; address: string } | undefined;
  await untilTrue('a waiting viewer in the inspector', async () => {
    const { json } = await inspectorApi(inspector, '/api/viewers');
    found = json.viewers.find((v: { state: string }) => v.state === 'waiting');
    return found !== undefined;
  });
  return found!;
}

describe('viewer approval in Chromium (--approve)', () => {
  it('shows the waiting page with what the developer sees, then reloads into the app over P2P once admitted', async () => {
    const page = browser.page;
    const res = await page.goto(`${t.url}one`);
    expect(res?.status()).toBe(403);
    await page.locator('#wingman-waiting', { hasText: 'Waiting for the developer to let you in' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const viewer = await waitingViewer();
    expect(viewer.userAgent).toContain('Chrome');
    const shown = await page.locator('.who').textContent();
    expect(shown).toContain(viewer.address);
    expect(shown).toContain(viewer.id.slice(0, 8));

    expect((await inspectorApi(inspector, `/api/viewers/${viewer.id}/admit`, 'POST')).status).toBe(202);
    const frame = await waitForApp(page, 'one');
    await waitForTransport(page, 'p2p');
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');
  });

  it("closes an admitted browser's P2P channel when it is revoked, and refuses its next request", async () => {
    const page = browser.page;
    await page.goto(`${t.url}one`);
    const viewer = await waitingViewer();
    expect((await inspectorApi(inspector, `/api/viewers/${viewer.id}/admit`, 'POST')).status).toBe(202);
    const frame = await waitForApp(page, 'one');
    await waitForTransport(page, 'p2p');

    expect((await inspectorApi(inspector, `/api/viewers/${viewer.id}/revoke`, 'POST')).status).toBe(202);
    await waitForTransport(page, 'relay');
    const refused = await fetchInApp(frame, '/api/hello');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('ERR_VIEWER_REFUSED');
  });

  it("lists the waiting viewer in the inspector's Viewers panel, admits it with a click, and names it in the request list", async () => {
    const inspectorPage = await browser.context.newPage();
    await inspectorPage.goto(`http://127.0.0.1:${inspector}/`);
    await inspectorPage.locator('#live', { hasText: 'live' }).waitFor({ timeout: UI_TIMEOUT_MS });

    const page = browser.page;
    await page.goto(`${t.url}one`);
    const viewer = await waitingViewer();
    const row = inspectorPage.locator(`#viewers tbody tr[data-id="${viewer.id}"]`);
    await row.locator('td', { hasText: 'waiting' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row.locator('td').first().textContent()).toBe(viewer.id.slice(0, 8));
    expect(await row.locator('td.ua').textContent()).toContain('Chrome');

    await row.locator('button[data-action=admit]').click();
    await waitForApp(page, 'one');
    await row.locator('td', { hasText: 'admitted' }).waitFor({ timeout: UI_TIMEOUT_MS });
    // The shell's own relayed requests carry the viewer: the list shows its short id.
    await inspectorPage
      .locator('#list tbody tr td', { hasText: viewer.id.slice(0, 8) })
      .first()
      .waitFor({ timeout: UI_TIMEOUT_MS });

    await row.locator('button[data-action=revoke]').click();
    await row.locator('td', { hasText: 'refused' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await inspectorPage.close();
  });
  it('keeps a viewer whose event came while the Viewers panel was still loading its list', async () => {
    const inspectorPage = await browser.context.newPage();
    let listHeld!: () => void;
    const held = new Promise<void>((resolve) => (listHeld = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await inspectorPage.route('**/api/viewers', async (route) => {
      // The list as it is now (no viewer yet), answered only once the viewer's own event has reached the page.
      const stale = await route.fetch();
      listHeld();
      await released;
      await route.fulfill({ response: stale });
    });
    await inspectorPage.goto(`http://127.0.0.1:${inspector}/`);
    await held;

    await browser.page.goto(`${t.url}one`);
    const viewer = await waitingViewer();
    const row = inspectorPage.locator(`#viewers tbody tr[data-id="${viewer.id}"]`);
    await row.locator('td', { hasText: 'waiting' }).waitFor({ timeout: UI_TIMEOUT_MS });
    release();
    await inspectorPage.locator('#viewers[data-loaded="1"]').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row.locator('td', { hasText: 'waiting' }).count()).toBe(1);
    await inspectorPage.close();
  });
});
