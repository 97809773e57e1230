/**
 * The inspector page of `wingman start` in real headless Chromium: with two
 * named tunnels, the header names both, each row shows its tunnel, and the
 * tunnel filter keeps only that tunnel's rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, type LaunchedChromium } from '../../packages/browser-client/test/e2e/helpers/browser';
import { send } from '../helpers/http-client';
import { AGENT_BIN, killAll, startProcess, startServer } from '../helpers/processes';

jest.setTimeout(120_000);

/** Waits for UI changes that follow a server event; far above what loopback takes. */
const UI_TIMEOUT_MS = 15_000;

let dir: string;
let app: Server;
let browser: LaunchedChromium;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-start-page-'));
  app = createServer((req, res) => res.end(`ok ${req.url}`));
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await killAll();
  await new Promise<void>((r) => app.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('inspector page with several tunnels (Chromium)', () => {
  it("names every tunnel, shows each request's tunnel, and filters by tunnel", async () => {
    const { port: serverPort, url: server } = await startServer();
    const port = (app.address() as AddressInfo).port;
    const file = join(dir, 'wingman.json');
    writeFileSync(file, JSON.stringify({ server, inspect: 0, tunnels: { front: { target: String(port) }, back: { target: String(port), p2p: false } } }));
    const agent = startProcess(AGENT_BIN, ['start', '--config', file, '--json'], { WINGMAN_STATE_DIR: join(dir, 'state') });
    const front = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'front');
    const back = await agent.waitFor((e) => e.event === 'ready' && e.tunnel === 'back');

    const page = browser.page;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(String(front.inspector));
    await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#tunnel', { hasText: `front: ${front.url}` }).waitFor({ timeout: UI_TIMEOUT_MS });
    await page.locator('#tunnel', { hasText: `back: ${back.url}` }).waitFor({ timeout: UI_TIMEOUT_MS });

    await send(serverPort, new URL(String(front.url)).host, { path: '/from-front' });
    await send(serverPort, new URL(String(back.url)).host, { path: '/from-back' });
    const frontRow = page.locator('#list tbody tr', { hasText: '/from-front' });
    const backRow = page.locator('#list tbody tr', { hasText: '/from-back' });
    await frontRow.waitFor({ timeout: UI_TIMEOUT_MS });
    await backRow.waitFor({ timeout: UI_TIMEOUT_MS });
    expect(await frontRow.locator('td.col-tunnel').textContent()).toBe('front');
    expect(await backRow.locator('td.col-tunnel').textContent()).toBe('back');
    expect(await page.locator('th.col-tunnel').isVisible()).toBe(true);

    await page.selectOption('#filters select[name=tunnel]', 'back');
    await frontRow.waitFor({ state: 'detached', timeout: UI_TIMEOUT_MS });
    expect(await backRow.isVisible()).toBe(true);
    expect(errors).toEqual([]);
  });
});
