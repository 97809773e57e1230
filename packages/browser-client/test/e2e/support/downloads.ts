/**
 * What a browser saved for a download, read the way each driver allows:
 * Playwright's download event (Chromium), or the directory the browser was
 * told to save to without asking (Firefox's prefs, WebKitGTK's XDG download
 * directory). Every wait is bounded.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { until } from '../../../../../test/helpers/wait';
import { WAIT_MS } from './shell';

export interface SavedDownload {
  /** The file name the browser chose (the response's Content-Disposition, else the link's `download`). */
  name: string;
  sha256: string;
}

export interface Downloads {
  /** Runs `start` (which begins one download) and resolves with the file the browser saved. */
  next(start: () => Promise<unknown>): Promise<SavedDownload>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Chromium through Playwright: the page's `download` event (a download from any of its frames). */
export function playwrightDownloads(page: Page): Downloads {
  return {
    async next(start) {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), start()]);
      const path = await download.path();
      const saved = { name: download.suggestedFilename(), sha256: sha256(readFileSync(path)) };
      await download.delete();
      return saved;
    },
  };
}

/** Names of files a browser writes while a download runs (Firefox `.part`, WebKit `.wkdownload`/`.download`). */
const IN_PROGRESS = /\.(part|wkdownload|download)$/;

/**
 * A browser that saves downloads to `dir` by itself: the one finished file
 * that appears there (no in-progress file left, size steady over two reads),
 * read and then deleted so the next download gets the same name.
 */
export function directoryDownloads(dir: string): Downloads {
  return {
    async next(start) {
      const before = new Set(readdirSync(dir));
      await start();
      let lastSize = -1;
      let seen: string[] = [];
      const name = await until(
        () => {
          seen = readdirSync(dir).filter((f) => !before.has(f));
          const done = seen.filter((f) => !IN_PROGRESS.test(f));
          if (done.length !== 1 || seen.some((f) => IN_PROGRESS.test(f))) return undefined;
          const size = statSync(join(dir, done[0]!)).size;
          const steady = size === lastSize && size > 0;
          lastSize = size;
          return steady ? done[0] : undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: 100, what: `a download saved in ${dir}`, observe: () => ({ newFiles: seen }) },
      );
      const saved = { name, sha256: sha256(readFileSync(join(dir, name))) };
      rmSync(join(dir, name), { force: true });
      return saved;
    },
  };
}
