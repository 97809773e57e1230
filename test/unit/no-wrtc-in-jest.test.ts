/**
 * No test file loads @roamhq/wrtc into the jest process, directly or through
 * the modules it imports (the agent's src/p2p/webrtc.ts, the P2P host, the
 * Node viewer): wrtc is native code that now and then dies of SIGSEGV, and
 * in jest's process that ends the whole run (the integration project runs in
 * band). Tests drive real peer connections in a child process instead
 * (packages/relay-server/test/integration/helpers/peer-fixture.ts,
 * test/helpers/node-script.ts), where a crash is an exit signal they report.
 *
 * A static walk: from each test file of jest's projects (jest.config.js),
 * along its imports, `export … from`, `require()` and `import()` of relative
 * paths and `@wingman/<pkg>` (packages/<pkg>/src, as jest maps it), parsed
 * with the TypeScript compiler (test/helpers/imports.ts): type-only imports
 * are left out as the build drops them, and a script in a string, run in a
 * child process, is not an import.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { importsOf } from '../helpers/imports';
import { listRepositoryFiles } from '../helpers/repo-references';

const ROOT = resolve(__dirname, '../..');
const WRTC = '@roamhq/wrtc';

/**
 * Test files that still reach wrtc in the jest process: each is to move its
 * WebRTC work into a child process, and leave this list as it does. The list
 * must shrink to empty; an entry that no longer reaches wrtc fails the test
 * until it is removed.
 */
const PENDING_CHILD_PROCESS = new Set([
  // The CLI's main() in process, whose `wingman fetch` is the Node viewer. They never run `fetch`, so
  // wrtc is not loaded at run time today, but nothing keeps a test of theirs from doing so.
  'packages/relay-server/test/integration/cli.test.ts',
  'packages/relay-server/test/unit/http-options-table.test.ts',
]);

/** A testMatch glob of jest.config.js as a regex over repository-relative paths. */
function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/^<rootDir>\//, '')
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/** The test files of every jest project, repository-relative. */
function jestTestFiles(): string[] {
  const config = createRequire(__filename)(join(ROOT, 'jest.config.js')) as { projects: Array<{ testMatch: string[] }> };
  const patterns = config.projects.flatMap((p) => p.testMatch).map(globRegex);
  return listRepositoryFiles(ROOT).filter((file) => patterns.some((re) => re.test(file)));
}

const EXTENSIONS = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '/index.ts', '/index.js'];

/** The repository file a specifier names (relative or `@wingman/<pkg>`), WRTC for wrtc itself, undefined for other packages. */
function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (specifier === WRTC) return WRTC;
  const wingman = /^@wingman\/([a-z-]+)$/.exec(specifier);
  if (!wingman && !specifier.startsWith('.')) return undefined;
  const base = wingman ? join(ROOT, 'packages', wingman[1]!, 'src') : resolve(ROOT, dirname(from), specifier);
  for (const ext of EXTENSIONS) {
    const path = base + ext;
    if (existsSync(path) && statSync(path).isFile()) return relative(ROOT, path);
  }
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

/** Each file's run-time imports, resolved, read once. */
const loads = new Map<string, Array<string | undefined>>();

/** The import chain from `file` to wrtc, or undefined when it never loads it. */
function chainToWrtc(file: string, seen = new Set<string>()): string[] | undefined {
  if (file === WRTC) return [WRTC];
  if (seen.has(file)) return undefined;
  seen.add(file);
  if (!loads.has(file))
    loads.set(
      file,
      importsOf(file, readFileSync(join(ROOT, file), 'utf8'))
        .filter((edge) => !edge.typeOnly)
        .map((edge) => resolveSpecifier(file, edge.specifier)),
    );
  for (const next of loads.get(file)!) {
    const chain = next === undefined ? undefined : chainToWrtc(next, seen);
    if (chain) return [file, ...chain];
  }
  return undefined;
}

describe('@roamhq/wrtc in the jest process', () => {
  const reaching = new Map(jestTestFiles().flatMap((file) => Object.entries({ [file]: chainToWrtc(file) }).filter(([, chain]) => chain !== undefined)));

  it('is loaded by no test file outside PENDING_CHILD_PROCESS', () => {
    const offenders = [...reaching].filter(([file]) => !PENDING_CHILD_PROCESS.has(file)).map(([, chain]) => chain!.join(' → '));
    expect(offenders).toEqual([]);
  });

  it('is still loaded by every file of PENDING_CHILD_PROCESS (an entry that no longer does leaves the list)', () => {
    expect([...PENDING_CHILD_PROCESS].filter((file) => !reaching.has(file))).toEqual([]);
  });

  it('is reached through imports of imports, and not through a type-only import', () => {
    const p2p = 'packages/relay-server/src/p2p';
    expect(chainToWrtc(`${p2p}/peer-host.ts`)?.slice(-2)).toEqual([`${p2p}/webrtc.ts`, WRTC]);
    // The agent's side of its P2P host process: the peer host's types only (`import type`).
    expect(chainToWrtc(`${p2p}/isolated-peer-host.ts`)).toBeUndefined();
  });
});
