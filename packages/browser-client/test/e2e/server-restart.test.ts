/**
 * A tunnel-server restart does not take P2P viewers down: signaling only
 * sets a channel up, so with the channel open every request keeps being
 * served while the server is gone and while the agent registers again, and
 * once the server is back a new channel can be set up through it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startApp, type FixtureApp } from './support/app';
import { fetchInApp, openShell, shellStatus, waitForTransport, watchStatuses } from './support/shell';

jest.setTimeout(120_000);

/** Requests sent while the server is down and coming back: one per this interval, ms (bounded by the restart's length). */
const REQUEST_EVERY_MS = 100;

describe('a tunnel-server restart with P2P viewers', () => {
  let app: FixtureApp;
  let browser: LaunchedChromium;
  const dirs: string[] = [];

  beforeAll(async () => {
    app = await startApp();
    browser = await launchChromium();
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await killAll();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const tempDir = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), `wingman-${name}-`));
    dirs.push(d);
    return d;
  };

  /** Fetches /api/hello from the app's frame every REQUEST_EVERY_MS until `stop` resolves; every answer's status and transport. */
  async function fetchUntil(frame: Frame, stop: Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    let done = false;
    void stop.finally(() => (done = true));
    for (let i = 0; !done && i < 600; i++) {
      const r = await fetchInApp(frame, `/api/hello?i=${i}`).catch((err: Error) => ({ status: 0, transport: err.message }));
      seen.push(`${r.status} ${r.transport}`);
      await new Promise((resolve) => setTimeout(resolve, REQUEST_EVERY_MS));
    }
    return seen;
  }

  it.each([['SIGTERM'], ['SIGKILL']] as const)(
    'keeps serving over the open channel while the server restarts (%s), and signals again afterwards',
    async (signal) => {
      const serverState = tempDir('server-state');
      const first = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState });
      const { agent } = await startAgent(first.url, String(app.port), { WINGMAN_STATE_DIR: tempDir('agent-state') });
      const sessionUrl = agent.events.find((e) => e.event === 'ready')!.url as string;
      const frame = await openShell(browser.page, `${sessionUrl.replace(/\/$/, '')}/one`, 'one');
      await waitForTransport(browser.page, 'p2p');

      const readyBefore = agent.events.filter((e) => e.event === 'ready').length;
      const restarted = (async (): Promise<Proc> => {
        await first.server.kill(signal);
        // The server stays down a moment, as a real restart would.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const second = await startServer({ WINGMAN_SERVER_STATE_DIR: serverState }, ['--port', String(first.port)]);
        await agent.waitFor((e) => e.event === 'ready' && agent.events.filter((x) => x.event === 'ready').length > readyBefore, 45_000);
        return second.server;
      })();
      const seen = await fetchUntil(frame, restarted);
      await restarted;
      expect(seen.length).toBeGreaterThan(5);
      expect(seen.filter((s) => s !== '200 p2p')).toEqual([]);
      expect(await shellStatus(browser.page)).toMatchObject({ transport: 'p2p' });

      // Signaling through the restarted server: a new channel after this one is dropped.
      let dropped = false;
      const statuses = watchStatuses(browser.page, (s) => {
        dropped ||= s.transport === 'relay';
        return dropped && s.transport === 'p2p';
      });
      expect(await browser.page.evaluate(() => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel())).toBe(true);
      await statuses.finished;
      expect((await fetchInApp(frame, '/api/hello?after=1')).transport).toBe('p2p');
    },
  );
});
