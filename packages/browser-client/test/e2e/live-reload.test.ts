/**
 * Dev servers' live reload over P2P (support/zoo/dev-servers.ts: `mkdocs
 * serve`, `hugo server`), each run as it comes and shared with `wingman
 * http`: after an edit of the site, the server rebuilds, tells its pages to
 * reload, and the shell's frame shows the new page, its document carried
 * over P2P by the Service Worker and reaching the dev server once; the shell
 * stays on P2P throughout, and the agent's P2P host lives through it. How
 * fast the new page shows is measured by scripts/bench/live-reload.mjs, not
 * here (docs/benchmarks.md).
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonEvent } from '../../../../scripts/lib/spawn-ready.mjs';
import { freePort } from '../../../../test/helpers/ports';
import { killAll, startCommand, type Proc } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, routeCountsMoved, routeOf, swRouteCounts, waitForApp, waitForTransport, watchStatuses, WAIT_MS } from './support/shell';
import { recordFrameDocuments } from './support/frame-documents';
import { HUGO, MKDOCS, waitForReloadClient, writeSite, type LiveReloadServer } from './support/zoo/dev-servers';
import { p2pHostFate, shareApp, type SharedApp } from './support/zoo/zoo-run';

jest.setTimeout(120_000);

/** A request after the reload: a barrier in the agent's log (see the test). */
const AFTER_RELOAD = '/?after-reload';
/** The agent's log line of a GET of the site's page. */
const isPageGet = (e: JsonEvent) => e.event === 'request' && e.method === 'GET' && e.target === '/';

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

  it("reloads the shell's frame after an edit with a document carried over P2P and fetched once, the shell on P2P and its P2P host alive", async () => {
    const { page } = browser;
    await page.goto(`${shared.origin}/`);
    await waitForReloadClient(await waitForApp(page, 'v1'), server);
    const { viewerId } = await waitForTransport(page, 'p2p');

    const frameDocuments = recordFrameDocuments(page);
    const logged = shared.agent.events.length;
    let shown = false;
    const statuses = watchStatuses(page, () => shown);
    writeSite(server, dir, 'v2');
    const frame = await waitForApp(page, 'v2');
    shown = true;
    await statuses.finished;

    // The new page's document came to the frame from the Service Worker, over P2P.
    expect(frameDocuments).toEqual([{ url: `${shared.origin}/`, fromServiceWorker: true, transport: 'p2p', route: expect.stringMatching(/^p2p; reason=/) }]);
    // The dev server got the reload's GET once, over P2P: no second try on either path. A request after the
    // reload is the barrier: its line and the reload's GET's line are both in the agent's log before the count.
    // The Service Worker carries it: over P2P, or round the channel while its stall verdict holds (rule 5, lone
    // requests slowed by a loaded machine, with mkdocs' long poll in flight beside it). A wrong route shows what
    // the SW counted for the fetch ({}: it never answered the fetch event).
    const counted = await swRouteCounts(page);
    const after = await fetchInApp(frame, AFTER_RELOAD);
    expect({ route: routeOf(after), swCounted: routeCountsMoved(counted, await swRouteCounts(page)) }).toEqual({
      route: expect.stringMatching(/^(p2p |relay \(relay; reason=p2p-stalls;)/),
      swCounted: expect.anything(),
    });
    const newLines = (what: string, match: (e: JsonEvent) => boolean) =>
      shared.agent.waitFor((e) => shared.agent.events.indexOf(e) >= logged && match(e), { timeoutMs: WAIT_MS, what });
    await newLines(`the agent's log line for ${AFTER_RELOAD}`, (e) => e.event === 'request' && e.target === AFTER_RELOAD);
    await newLines("the agent's log line for the reload's GET /", isPageGet);
    const pageGets = shared.agent.events.slice(logged).filter(isPageGet);
    expect(pageGets.map((e) => ({ status: e.status, transport: e.transport }))).toEqual([{ status: 200, transport: 'p2p' }]);
    // The shell never left P2P, and the agent's P2P host that carried it before the edit carried it all.
    expect([...new Set(statuses.seen.map((s) => s.transport))]).toEqual(['p2p']);
    expect(await p2pHostFate(shared.agent, viewerId)).toEqual({ endings: [], hosts: 1 });
  });
});
