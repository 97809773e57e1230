/**
 * Each package's README lists its files: every source file under `src/`
 * by its path from the package (`src/sw/router.ts`), and names no `src/`
 * file that does not exist. A newcomer finds every file's job in one table.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { listRepositoryFiles } from '../helpers/repo-references';

const ROOT = resolve(__dirname, '../..');

/** A `src/…` path with an extension, as a README names a file. */
const SRC_PATH_PATTERN = /(?<![\w./-])src\/[\w./-]*\w\.[a-z]+(?![\w/-])/g;

const packages = readdirSync(join(ROOT, 'packages')).filter((name) => existsSync(join(ROOT, 'packages', name, 'package.json')));
const repositoryFiles = listRepositoryFiles(ROOT);

describe.each(packages)('the README of packages/%s', (name) => {
  const dir = `packages/${name}`;
  const readme = () => readFileSync(join(ROOT, dir, 'README.md'), 'utf8');
  const sources = repositoryFiles.filter((file) => file.startsWith(`${dir}/src/`)).map((file) => posix.relative(dir, file));

  it('exists', () => {
    expect(existsSync(join(ROOT, dir, 'README.md'))).toBe(true);
  });

  it('lists every source file', () => {
    const listed = new Set(readme().match(SRC_PATH_PATTERN) ?? []);
    expect(sources.filter((file) => !listed.has(file))).toEqual([]);
  });

  it('lists no source file that does not exist', () => {
    const named = readme().match(SRC_PATH_PATTERN) ?? [];
    expect(named.filter((file) => !existsSync(join(ROOT, dir, file)))).toEqual([]);
  });
});
