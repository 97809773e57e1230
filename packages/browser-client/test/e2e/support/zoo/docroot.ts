/**
 * The directory the stock servers of the zoo serve: a page for the shell's
 * frame (`window.pageName = 'zoo'`) and one file of the fixture pattern per
 * size in ZOO_BODY_BYTES, `body-<bytes>.bin`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patternBytes } from '../../../../../../test/helpers/fixture-app';

/**
 * Body sizes every zoo case downloads: empty, one byte, one protocol frame
 * (16 KiB) and one byte past a 64 KiB data-channel message, then large
 * bodies that fill the channel (the forwarder pauses the app's connection),
 * all under the Service Worker's race threshold (sw/bulk-race.ts
 * RACE_MIN_BYTES), so P2P carries them alone.
 */
export const ZOO_BODY_BYTES = [0, 1, 16_384, 65_537, 1_000_000, 3_000_001] as const;

/** The page of the docroot. */
export const ZOO_PAGE = '/index.html';

export interface Docroot {
  /** The directory served. */
  dir: string;
  /** A directory beside it for a server's own files (configuration, pid, temp files); not served. */
  work: string;
  remove(): void;
}

export function writeDocroot(): Docroot {
  const work = mkdtempSync(join(tmpdir(), 'wingman-zoo-'));
  const dir = join(work, 'site');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>zoo</title></head><body><script>window.pageName = "zoo";</script></body></html>',
  );
  for (const n of ZOO_BODY_BYTES) writeFileSync(join(dir, `body-${n}.bin`), patternBytes(n));
  return { dir, work, remove: () => rmSync(work, { recursive: true, force: true }) };
}
