/**
 * `mkdocs serve` (Debian's MkDocs) behind `wingman http`, live reload over
 * P2P: its pages long-poll `/livereload/<epoch>/<id>` on its HTTP/1.0
 * server (a response that ends with its connection, the kind that used to
 * end the agent's P2P host), and reload when a rebuild answers the poll.
 * After an edit of the page's Markdown the shell's frame shows the new page
 * within a second of MkDocs saying it reloads browsers (as a page straight
 * on `mkdocs serve` does), the shell stays on P2P, and the agent's P2P host
 * lives through it.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { freePort } from '../../../../test/helpers/ports';
import { killAll, startCommand, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { inPage, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { p2pHostFate, shareApp, type SharedApp } from './support/zoo/zoo-run';

jest.setTimeout(120_000);

/** Debian's `mkdocs` package installs it here. */
const MKDOCS = '/usr/bin/mkdocs';

/**
 * From MkDocs' word that it reloads browsers to the new page in the frame, at
 * most: the poll's answer, the frame's reload and its page, each over P2P.
 */
const RELOAD_AFTER_REBUILD_MS = 1_000;

let dir: string;
let mkdocs: Proc;
let port: number;
let shared: SharedApp;
let browser: LaunchedChromium;
/** How many times MkDocs said it reloads browsers so far. */
let reloads = 0;

/** The site's one page, `/` (MkDocs' `index`). */
const PAGE = 'index';

/** The page's Markdown: its script names the version, which the test waits for. */
const writePage = (version: string) =>
  writeFileSync(join(dir, 'docs', `${PAGE}.md`), `# Zoo\n\n<script>window.pageName = ${JSON.stringify(version)};</script>\n`);

beforeAll(async () => {
  try {
    accessSync(MKDOCS, constants.X_OK);
  } catch {
    throw new Error(`${MKDOCS} is missing: apt-get install mkdocs`);
  }
  dir = mkdtempSync(join(tmpdir(), 'wingman-mkdocs-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'mkdocs.yml'), 'site_name: Zoo\n');
  writePage('v1');
  port = await freePort();
  mkdocs = startCommand(MKDOCS, ['serve', '-a', `127.0.0.1:${port}`, '-f', join(dir, 'mkdocs.yml')]);
  await mkdocs.waitForLine(/Serving on/, { timeoutMs: 30_000, stream: 'both' });
  shared = await shareApp(port);
  browser = await launchChromium();
});

afterAll(async () => {
  await unregisterServiceWorkers(browser.page).catch(() => undefined);
  await browser?.close();
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Edits the page to `version`; resolves with when MkDocs said it reloads browsers after it (performance.now()). */
async function edit(version: string): Promise<number> {
  const nth = ++reloads;
  let seen = 0;
  writePage(version);
  await mkdocs.waitForMatch((line: string) => (/Reloading browsers/.test(line) && ++seen === nth ? line : undefined), {
    timeoutMs: WAIT_MS,
    what: `MkDocs to rebuild after the edit to ${version}`,
  });
  return performance.now();
}

/** Resolves with when `page`'s own document (no shell) names `version`. */
function directShows(page: Page, version: string): Promise<number> {
  return until(
    async () =>
      (await inPage(page, () => (window as unknown as { pageName?: string }).pageName, undefined).catch(() => undefined)) === version
        ? performance.now()
        : undefined,
    { timeoutMs: WAIT_MS, intervalMs: 20, what: `the page straight on mkdocs serve to show ${version}` },
  );
}

it('reloads a page straight on mkdocs serve after an edit (the reference)', async () => {
  await browser.page.goto(`http://127.0.0.1:${port}/`);
  await directShows(browser.page, 'v1');
  const [rebuilt, shown] = await Promise.all([edit('v2'), directShows(browser.page, 'v2')]);
  expect(shown - rebuilt).toBeLessThan(RELOAD_AFTER_REBUILD_MS);
});

it("reloads the shell's frame over P2P after an edit, within a second of the rebuild, and the P2P host lives", async () => {
  await browser.page.goto(`${shared.origin}/`);
  await waitForApp(browser.page, 'v2');
  await waitForTransport(browser.page, 'p2p');
  const [rebuilt, shown] = await Promise.all([edit('v3'), waitForApp(browser.page, 'v3').then(() => performance.now())]);
  expect(shown - rebuilt).toBeLessThan(RELOAD_AFTER_REBUILD_MS);
  expect((await waitForTransport(browser.page, 'p2p')).transport).toBe('p2p');
  expect(p2pHostFate(shared.agent)).toEqual({ endings: [], hosts: 1 });
});
