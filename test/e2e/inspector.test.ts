/**
 * The inspector page in real headless Chromium: requests through the tunnel
 * appear live, a click shows the detail, replay and edit-and-replay add new
 * rows. INSPECTOR_SCREENSHOT=<file.png> keeps the screenshot it takes (the
 * picture in docs/cli.md).
 */
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from '../../packages/browser-client/test/e2e/helpers/browser';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { killAll, runWingmanFetch, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(120_000);

/** Waits for UI changes that follow a server event; far above what loopback takes. */
const UI_TIMEOUT_MS = 15_000;

let app: FixtureApp;
let t: Tunnel;
let browser: LaunchedChromium;
let inspectorUrl: string;

beforeAll(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port), { agentArgs: ['--inspect', '0'] });
  inspectorUrl = String(t.agent.events.find((e) => e.event === 'ready')!.inspector);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await killAll();
  await app?.close();
});

const row = (page: Page, text: string) => page.locator('#list tbody tr', { hasText: text });

async function openInspector(page: Page): Promise<void> {
  await page.goto(inspectorUrl);
  await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: UI_TIMEOUT_MS });
}

describe('inspector page (Chromium)', () => {
  it('shows a request through the tunnel live, its detail on click, and a new row for each replay', async () => {
    const page = browser.page;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openInspector(page);
    await page.locator('#tunnel', { hasText: t.url }).waitFor({ timeout: UI_TIMEOUT_MS });

    // Made after the page loaded: only the live stream can bring it.
    const r = await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/echo?from=chromium',
      body: Buffer.from('{"name":"wingman"}'),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    const original = row(page, '/echo?from=chromium');
    await original.waitFor({ timeout: UI_TIMEOUT_MS });
    // The transport, and why (the response's route header): no Service Worker routed this request.
    expect(await original.locator('td').nth(6).textContent()).toBe('relay · no-service-worker');

    await original.click();
    await page.locator('#detail-title', { hasText: 'POST /echo?from=chromium' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('#req-headers').textContent()).toContain('content-typeapplication/json');
    // The request body is JSON: shown pretty-printed.
    expect(await page.locator('#req-body pre').textContent()).toBe('{\n  "name": "wingman"\n}');
    const originalId = (await page.locator('#detail-title').textContent())!.match(/^#(\d+)/)![1];

    await page.click('#replay');
    const replayRow = row(page, `replay of #${originalId}`);
    await replayRow.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await row(page, '/echo?from=chromium').count()).toBe(2);
    await page.locator('#detail-meta', { hasText: `replay of #${originalId}` }).waitFor({ timeout: UI_TIMEOUT_MS });

    // Edit and replay: another path and body.
    await page.click('#edit');
    await page.fill('#editor input[name=path]', '/echo?edited=1');
    await page.fill('#editor textarea[name=body]', '{"name":"edited"}');
    await page.click('#editor button[type=submit]');
    await row(page, '/echo?edited=1').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#res-body pre', { hasText: '"edited"' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(errors).toEqual([]);
  });

  it('shows a JSON syntax error, binary bodies as hex and images as images', async () => {
    const page = browser.page;
    await openInspector(page);
    await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/echo?bad-json',
      body: Buffer.from('{"a": 1,,}'),
      headers: { 'content-type': 'application/json' },
    });
    await row(page, '/echo?bad-json').click();
    await page.locator('#detail-title', { hasText: '/echo?bad-json' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#req-body .note.error', { hasText: 'JSON syntax error' }).waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('#req-body pre').textContent()).toBe('{"a": 1,,}');

    await send(t.serverPort, t.host, { path: '/bytes?n=40' });
    await row(page, '/bytes?n=40').click();
    await page.locator('#detail-title', { hasText: '/bytes?n=40' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#res-body pre.hex').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('#res-body pre.hex').textContent()).toMatch(/^00000000  [0-9a-f]{2}( [0-9a-f]{2}){15}  /);

    // A 1×1 PNG.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await send(t.serverPort, t.host, { method: 'PUT', path: '/echo?image', body: png, headers: { 'content-type': 'image/png' } });
    await row(page, '/echo?image').click();
    await page.locator('#detail-title', { hasText: '/echo?image' }).waitFor({ timeout: UI_TIMEOUT_MS });
    const img = page.locator('#req-body img');
    await img.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await img.evaluate((e: HTMLImageElement) => e.decode().then(() => e.naturalWidth))).toBe(1);
  });

  it('filters the list by status and clears it', async () => {
    const page = browser.page;
    await openInspector(page);
    await send(t.serverPort, t.host, { path: '/nowhere-to-be-found' });
    await row(page, '/nowhere-to-be-found').waitFor({ timeout: UI_TIMEOUT_MS });
    await page.fill('#filters input[name=status]', '4xx');
    await page.waitForFunction(() => [...document.querySelectorAll('#list tbody tr')].every((tr) => tr.textContent!.includes('404')), undefined, {
      timeout: UI_TIMEOUT_MS,
    });
    expect(await row(page, '/nowhere-to-be-found').count()).toBe(1);
    await page.fill('#filters input[name=status]', '');
    await page.click('#clear');
    await page.waitForFunction(() => document.querySelectorAll('#list tbody tr').length === 0, undefined, { timeout: UI_TIMEOUT_MS });
  });

  it('renders a screenshot-sized page of relay, P2P and failed requests with a JSON detail', async () => {
    // INSPECTOR_SCREENSHOT=docs/img/inspector.png regenerates docs/cli.md's picture.
    const screenshot = process.env.INSPECTOR_SCREENSHOT ?? join(tmpdir(), `wingman-inspector-${process.pid}.png`);
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1100, height: 560 });
    await openInspector(page);
    await send(t.serverPort, t.host, { path: '/hello' });
    await runWingmanFetch(['--p2p-only', `${t.url}headers`]);
    await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/echo?draft=1',
      body: Buffer.from('{"title":"Hello","tags":["a","b"]}'),
      headers: { 'content-type': 'application/json' },
    });
    await send(t.serverPort, t.host, { path: '/missing.css' });
    await runWingmanFetch(['--p2p-only', `${t.url}bytes?n=2048`]);
    const json = row(page, '/headers');
    await json.waitFor({ timeout: UI_TIMEOUT_MS });
    await json.click();
    await page.locator('#res-body pre').waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await page.locator('#list tbody tr td.t-p2p').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshot });
    await page.close();
    // docs/cli.md embeds it: keep it small.
    expect(statSync(screenshot).size).toBeLessThan(150 * 1024);
    if (!process.env.INSPECTOR_SCREENSHOT) rmSync(screenshot);
  });
});
