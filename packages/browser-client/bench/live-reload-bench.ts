/**
 * How fast a dev server's live reload shows the new page, straight on the
 * server and through Wingman over P2P, in the same run: `mkdocs serve` and
 * `hugo server` as they come (test/e2e/support/zoo/dev-servers.ts, the same
 * scenario as test/e2e/live-reload.test.ts). Each round edits the site once
 * per path, the paths' order alternating, and times the server's line that
 * says it told its pages to reload (read as it arrives) to the new
 * document's DOMContentLoaded end: the top-level page straight on the
 * server, or the app frame in the session's shell. Both ends are wall-clock
 * times on this machine. Prints each path's median and spread (min, p25,
 * p75, max), Wingman's median ÷ direct's, and the goal's PASS / FAIL line
 * (docs/benchmarks.md).
 * Run: node scripts/bench/live-reload.mjs [--runs N] [--servers mkdocs,hugo]
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Frame, Page } from 'playwright-core';
import { freePort } from '../../../test/helpers/ports';
import { killAll, startCommand, type Proc } from '../../../test/helpers/processes';
import { until } from '../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from '../test/e2e/helpers/browser';
import { waitForApp, waitForTransport, WAIT_MS } from '../test/e2e/support/shell';
import { HUGO, MKDOCS, waitForReloadClient, writeSite, type LiveReloadServer } from '../test/e2e/support/zoo/dev-servers';
import { shareApp, type SharedApp } from '../test/e2e/support/zoo/zoo-run';
import { median } from './measure-page';

const SERVERS: Record<string, LiveReloadServer> = { mkdocs: MKDOCS, hugo: HUGO };
const MAX_RUNS = 100;
const PATHS = ['direct', 'wingman p2p'] as const;
/** The goal (docs/benchmarks.md): through Wingman, the new page shown within this of the server's reload line (median). */
const GOAL_MS = 1_000;
type PathName = (typeof PATHS)[number];

const log = (m: string) => console.error(`[bench:live-reload] ${m}`);

/** One dev server on a site of its own, shared with `wingman http`; `version` counts the edits. */
interface Served {
  server: LiveReloadServer;
  dir: string;
  port: number;
  devServer: Proc;
  shared: SharedApp;
  version: number;
}

async function serve(server: LiveReloadServer): Promise<Served> {
  accessSync(server.command, constants.X_OK);
  const dir = mkdtempSync(join(tmpdir(), 'wingman-bench-live-reload-'));
  writeSite(server, dir, 'v0');
  const port = await freePort();
  const devServer = startCommand(server.command, server.args(dir, port));
  await devServer.waitForLine(server.ready, { timeoutMs: 30_000, stream: 'both' });
  return { server, dir, port, devServer, shared: await shareApp(port), version: 0 };
}

/** The document showing version `v` on `path`: the top-level page straight on the server, or the shell's app frame once the shell is on P2P. */
async function documentShowing(page: Page, s: Served, path: PathName, v: string): Promise<Page | Frame> {
  if (path === 'wingman p2p') return waitForApp(page, v);
  let last: string | undefined;
  await until(
    () =>
      page
        .evaluate(() => (window as unknown as { pageName?: string }).pageName)
        .catch(() => undefined)
        .then((name) => ((last = `${page.url()} shows ${name}`), name === v || undefined)),
    { timeoutMs: WAIT_MS, intervalMs: 20, what: `the page straight on ${s.server.name} to show ${v}`, observe: () => `${last}; ${s.devServer.tail()}` },
  );
  return page;
}

/** Wall-clock time (ms since the epoch) of the document's DOMContentLoaded end, once it has one. */
function shownAt(doc: Page | Frame): Promise<number> {
  return until(
    () =>
      (doc as Page)
        .evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
          return nav && nav.domContentLoadedEventEnd > 0 ? performance.timeOrigin + nav.domContentLoadedEventEnd : undefined;
        })
        .catch(() => undefined),
    { timeoutMs: WAIT_MS, intervalMs: 20, what: 'the new document to reach DOMContentLoaded' },
  );
}

/** Opens `path`, edits the site once, and returns ms from the server's reload line to the new page shown. */
async function oneReload(page: Page, s: Served, path: PathName): Promise<number> {
  const current = `v${s.version}`;
  await page.goto(path === 'direct' ? `http://127.0.0.1:${s.port}/` : `${s.shared.origin}/`);
  await waitForReloadClient(await documentShowing(page, s, path, current), s.server);
  if (path === 'wingman p2p') await waitForTransport(page, 'p2p');
  const next = `v${++s.version}`;
  // waitForMatch offers the lines already seen first, synchronously: they set `before`, and only a later reload line counts.
  let seen = 0;
  let before: number | undefined;
  const said = s.devServer.waitForMatch((line: string) => (s.server.rebuilt.test(line) && ++seen > (before ?? Infinity) ? Date.now() : undefined), {
    timeoutMs: WAIT_MS,
    what: `${s.server.name} to say it told its pages to reload`,
  });
  before = seen;
  writeSite(s.server, s.dir, next);
  const [saidAt, shown] = await Promise.all([said, documentShowing(page, s, path, next).then(shownAt)]);
  return shown - saidAt;
}

/** `xs` sorted, at fraction `q` (nearest rank). */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const spread = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms (min ${quantile(xs, 0).toFixed(0)}, p25 ${quantile(xs, 0.25).toFixed(0)}, p75 ${quantile(xs, 0.75).toFixed(0)}, max ${quantile(xs, 1).toFixed(0)})`;

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, servers: { type: 'string', default: 'mkdocs,hugo' } } });
  const runs = Number(values.runs);
  const names = values.servers.split(',');
  if (!Number.isInteger(runs) || runs < 1 || runs > MAX_RUNS || names.some((n) => !(n in SERVERS))) {
    log(`usage: --runs 1-${MAX_RUNS} --servers ${Object.keys(SERVERS).join(',')}`);
    return 2;
  }
  const loadBefore = loadavg()[0]!;
  let browser: LaunchedChromium | undefined;
  const served: Served[] = [];
  try {
    browser = await launchChromium();
    const rows: string[] = [];
    const verdicts: string[] = [];
    for (const name of names) {
      const s = await serve(SERVERS[name]!);
      served.push(s);
      const ms: Record<PathName, number[]> = { direct: [], 'wingman p2p': [] };
      for (let run = 0; run < runs; run++) {
        for (const path of run % 2 === 0 ? PATHS : [...PATHS].reverse()) ms[path].push(await oneReload(browser.page, s, path));
        log(`${name} run ${run + 1}/${runs}: direct ${ms.direct.at(-1)!.toFixed(0)} ms, wingman p2p ${ms['wingman p2p'].at(-1)!.toFixed(0)} ms`);
      }
      const ratio = median(ms['wingman p2p']) / median(ms.direct);
      rows.push(`| ${s.server.name} | ${spread(ms.direct)} | ${spread(ms['wingman p2p'])} | ×${ratio.toFixed(2)} |`);
      console.log(JSON.stringify({ server: s.server.name, runs, ...ms }));
      const p2p = median(ms['wingman p2p']);
      verdicts.push(`${p2p <= GOAL_MS ? 'PASS' : 'FAIL'} live reload, ${s.server.name}: through Wingman over P2P, median ${p2p.toFixed(0)} ms ≤ ${GOAL_MS} ms`);
    }
    console.log(
      [
        `live reload — ${new Date().toISOString()}, ${runs} reloads per path; from the server's reload line to the new page's DOMContentLoaded end; load average ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`,
        '',
        '| dev server | direct | through Wingman (P2P) | Wingman ÷ direct (medians) |',
        '|---|---|---|---|',
        ...rows,
        '',
        ...verdicts,
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    await killAll();
    for (const s of served) rmSync(s.dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
