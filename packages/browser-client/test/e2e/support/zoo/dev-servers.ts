/**
 * Dev servers with live reload, as a developer runs them on a one-page site
 * (its page at `/` names its version in `window.pageName`): Debian's
 * `mkdocs serve` and `hugo server`. Each says on its output when a rebuild
 * after an edit is done and the pages are told to reload.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { until } from '../../../../../../test/helpers/wait';
import { inPage, WAIT_MS, type AnyFrame, type AnyPage } from '../shell';

export interface LiveReloadServer {
  name: string;
  command: string;
  /** The Debian package that installs it. */
  pkg: string;
  /** The site's files, its page naming `version`: path in the site → content. */
  site(version: string): Record<string, string>;
  /** Its arguments to serve the site in `dir` on 127.0.0.1:port. */
  args(dir: string, port: number): string[];
  /** The line it prints once it listens. */
  ready: RegExp;
  /** The line it prints once a rebuild is done and the pages are told to reload. */
  rebuilt: RegExp;
  /** Run in its page: whether the page's live reload client would hear of a rebuild from now on (before that, an edit may pass unseen). */
  reloadClientReady(): boolean;
}

/**
 * Writes `server`'s site into `dir`, its page naming `version`; again for an
 * edit, which writes only the files that change: a config file written again
 * as it was is still a change to Hugo, whose config rebuild then races the
 * page's and may tell the pages nothing.
 */
export function writeSite(server: LiveReloadServer, dir: string, version: string): void {
  for (const [path, content] of Object.entries(server.site(version))) {
    const file = join(dir, path);
    if (existsSync(file) && readFileSync(file, 'utf8') === content) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** Waits until the live reload client of `server`'s page in `target` (the page, or the shell's app frame) would hear of a rebuild. */
export async function waitForReloadClient(target: AnyPage | AnyFrame, server: LiveReloadServer): Promise<void> {
  await until(() => inPage(target, server.reloadClientReady, undefined).catch(() => false), {
    timeoutMs: WAIT_MS,
    intervalMs: 20,
    what: `the live reload client of ${server.name}'s page to connect`,
  });
}

/** The page's script, which names its version. */
const versionScript = (version: string) => `<script>window.pageName = ${JSON.stringify(version)};</script>`;

/** MkDocs' page for `/`: the Markdown file of this name in `docs/`. */
const MKDOCS_HOME_PAGE = 'index';

/**
 * `mkdocs serve`: its pages long-poll `/livereload/<epoch>/<id>` on its
 * HTTP/1.0 server (a response that ends with its connection, the kind that
 * once ended the agent's P2P host), answered by a rebuild.
 */
export const MKDOCS: LiveReloadServer = {
  name: 'mkdocs serve',
  command: '/usr/bin/mkdocs',
  pkg: 'mkdocs',
  site: (version) => ({
    'mkdocs.yml': 'site_name: Zoo\n',
    [`docs/${MKDOCS_HOME_PAGE}.md`]: `# Zoo\n\n${versionScript(version)}\n`,
  }),
  args: (dir, port) => ['serve', '-a', `127.0.0.1:${port}`, '-f', join(dir, 'mkdocs.yml')],
  ready: /Serving on/,
  rebuilt: /Reloading browsers/,
  // The page polls with the build it came from: a rebuild before its first poll is answered at once.
  reloadClientReady: () => true,
};

/**
 * `hugo server`, unchanged: its pages load `livereload.js`, which opens a
 * WebSocket to the page's host on Hugo's own port, and reload on its message
 * after a rebuild. Behind Wingman the shim carries that socket to the
 * session (docs/browser-client.md, "Ports in the page").
 */
export const HUGO: LiveReloadServer = {
  name: 'hugo server',
  command: '/usr/bin/hugo',
  pkg: 'hugo',
  site: (version) => ({
    'hugo.toml': 'title = "Zoo"\n',
    'layouts/index.html': `<!doctype html><html><head><title>Zoo</title></head><body>${versionScript(version)}</body></html>\n`,
  }),
  args: (dir, port) => ['server', '--source', dir, '--bind', '127.0.0.1', '--port', String(port)],
  ready: /Web Server is available/,
  rebuilt: /(Total|Rebuilt) in \d+ ms/,
  // livereload.js (deferred) connects its WebSocket after the page shows, and hears of rebuilds once its handshake is done.
  reloadClientReady: () => ((window as unknown as { LiveReload?: { connector?: { protocol?: number } } }).LiveReload?.connector?.protocol ?? 0) > 0,
};
