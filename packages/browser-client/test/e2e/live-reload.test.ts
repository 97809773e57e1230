/**
 * Dev servers' live reload over P2P (support/zoo/dev-servers.ts: `mkdocs
 * serve`, `hugo server`), each run as it comes and shared with `wingman
 * http`: after an edit of the site, the shell's frame shows the new page
 * within a second of the server saying it told its pages to reload, the
 * shell stays on P2P, and the agent's P2P host lives through it.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../../test/helpers/ports';
import { killAll, startCommand, type Proc } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { HUGO, MKDOCS, writeSite, type LiveReloadServer } from './support/zoo/dev-servers';
import { p2pHostFate, shareApp, type SharedApp } from './support/zoo/zoo-run';

jest.setTimeout(120_000);

/**
 * From the server's word that it told its pages to reload to the new page in
 * the frame, at most: the reload's message, the frame's navigation and its
 * page, each over P2P (here 110–250 ms, straight on the server or not).
 */
const RELOAD_AFTER_REBUILD_MS = 1_000;

let browser: LaunchedChromium;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe.each([MKDOCS, HUGO].map((s) => [s.name, s] as const))('%s behind wingman http', (_name, server: LiveReloadServer) => {
  let dir: string;
  let devServer: Proc;
  let shared: SharedApp;

  beforeAll(async () => {
    try {
      accessSync(server.command, constants.X_OK);
    } catch {
      throw new Error(`${server.command} is missing: apt-get install ${server.pkg}`);
    }
    dir = mkdtempSync(join(tmpdir(), 'wingman-live-reload-'));
    writeSite(server, dir, 'v1');
    const port = await freePort();
    devServer = startCommand(server.command, server.args(dir, port));
    await devServer.waitForLine(server.ready, { timeoutMs: 30_000, stream: 'both' });
    shared = await shareApp(port);
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reloads the shell's frame over P2P within a second of the rebuild after an edit, and the P2P host lives", async () => {
    await browser.page.goto(`${shared.origin}/`);
    await waitForApp(browser.page, 'v1');
    await waitForTransport(browser.page, 'p2p');
    // Rebuild lines before the edit do not count.
    const before = [...devServer.stdoutLines(), ...devServer.stderr().split('\n')].filter((line) => server.rebuilt.test(line)).length;
    let rebuilds = 0;
    writeSite(server, dir, 'v2');
    const [rebuilt, shown] = await Promise.all([
      devServer
        .waitForMatch((line: string) => (server.rebuilt.test(line) && ++rebuilds > before ? line : undefined), {
          timeoutMs: WAIT_MS,
          what: `${server.name} to rebuild after the edit`,
        })
        .then(() => performance.now()),
      waitForApp(browser.page, 'v2').then(() => performance.now()),
    ]);
    expect(shown - rebuilt).toBeLessThan(RELOAD_AFTER_REBUILD_MS);
    expect((await waitForTransport(browser.page, 'p2p')).transport).toBe('p2p');
    expect(p2pHostFate(shared.agent)).toEqual({ endings: [], hosts: 1 });
  });
});
