/**
 * The tunnel server's source is in layers (README §Layers): a module may
 * import from its own layer and the layers below it, never from a layer
 * above, except for types (an `import type`, or an import whose every name
 * is marked `type`, is erased at build and creates no dependency at run time).
 * Every import of every file under src/ is parsed with the TypeScript compiler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { importsOf } from '../../../../test/helpers/imports';

const PACKAGE = resolve(__dirname, '../..');
const SRC = join(PACKAGE, 'src');

/**
 * Bottom to top. A folder of src/ is one layer; so is a list of top-level
 * files. The same order, with each layer's job, is in the package README.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['config.ts', 'cli-options.ts', 'limits.ts', 'logger.ts', 'metrics.ts'],
  ['http/'],
  ['listener/'],
  ['keys/'],
  ['sessions/'],
  ['access/'],
  ['viewers/'],
  ['p2p/'],
  ['signaling/'],
  ['cluster/'],
  ['browser/'],
  ['relay/'],
  ['agents/'],
  ['routing/'],
  ['server.ts', 'index.ts', 'bin/'],
];

/** The layer of a path relative to src/ (`http/pages.ts`), or -1 when no layer holds it. */
function layerOf(file: string): number {
  return LAYERS.findIndex((members) => members.some((m) => (m.endsWith('/') ? file.startsWith(m) : file === m)));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every source file, relative to src/, `/`-separated (`routing/router.ts`). */
const FILES = sourceFiles(SRC).map((f) => relative(SRC, f).split('\\').join('/'));

/** The file a relative specifier names, e.g. `../http/pages` from `routing/router.ts` → `http/pages.ts`; a folder → its index file. */
function resolveRelative(from: string, specifier: string): string {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  return FILES.includes(`${target}.ts`) ? `${target}.ts` : `${target}/index.ts`;
}

describe('importsOf', () => {
  it('tells erased imports from value imports', () => {
    const edges = importsOf(
      `x.${'ts'}`,
      [
        "import type { A } from './a';",
        "import { type B, type C } from './b';",
        "import { type D, e } from './c';",
        "import f from './d';",
        "import * as g from './e';",
        "import './f';",
        "export { h } from './g';",
        "export type { I } from './h';",
        "export * from './i';",
        "const j = () => import('./j');",
        "type K = import('./k').K;",
      ].join('\n'),
    );
    expect(edges).toEqual([
      { specifier: './a', typeOnly: true },
      { specifier: './b', typeOnly: true },
      { specifier: './c', typeOnly: false },
      { specifier: './d', typeOnly: false },
      { specifier: './e', typeOnly: false },
      { specifier: './f', typeOnly: false },
      { specifier: './g', typeOnly: false },
      { specifier: './h', typeOnly: true },
      { specifier: './i', typeOnly: false },
      { specifier: './j', typeOnly: false },
    ]);
  });
});

describe('the layers of packages/tunnel-server/src', () => {
  const files = FILES;

  it('place every source file in a layer', () => {
    expect(files.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('have no import that points up a layer, except for types', () => {
    const upward: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(SRC, file), 'utf8');
      for (const edge of importsOf(file, text)) {
        if (edge.typeOnly || !edge.specifier.startsWith('.')) continue;
        const target = resolveRelative(file, edge.specifier);
        if (layerOf(target) > layerOf(file)) upward.push(`${file} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('are the ones the package README lists, in its order', () => {
    const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Layers'));
    const listed = [...section.slice(0, section.indexOf('\n## ', 3) >= 0 ? section.indexOf('\n## ', 3) : undefined).matchAll(/^\d+\. (.+?):/gm)].map((m) =>
      [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!),
    );
    expect(listed).toEqual(LAYERS.map((members) => [...members]));
  });
});
