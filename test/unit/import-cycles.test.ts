/**
 * No two source files import each other (type-only imports count: a pair that
 * needs each other is one concept split badly, or a shared type in the wrong
 * home). Relative imports of every file under packages/<name>/src.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageSources } from '../helpers/source-files';

const ROOT = resolve(__dirname, '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g;

/** The file a relative specifier names: the specifier plus `.ts`, or its folder's `index.ts`. */
function resolveImport(from: string, specifier: string, known: Set<string>): string | undefined {
  const base = resolve(dirname(from), specifier).replace(/\.js$/, '');
  return [`${base}.ts`, join(base, 'index.ts')].find((candidate) => known.has(candidate));
}

function twoFileCycles(files: string[], readText: (file: string) => string): string[][] {
  const known = new Set(files);
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const m of readText(file).matchAll(IMPORT)) {
      const target = resolveImport(file, m[1]!, known);
      if (target !== undefined && target !== file) targets.add(target);
    }
    edges.set(file, targets);
  }
  const pairs: string[][] = [];
  for (const [a, targets] of edges) for (const b of targets) if (a < b && edges.get(b)?.has(a)) pairs.push([a, b]);
  return pairs;
}

describe('import cycles', () => {
  it('no two source files import each other', () => {
    const files = packageSources(ROOT);
    expect(files.length).toBeGreaterThan(100);
    const cycles = twoFileCycles(files, (f) => readFileSync(f, 'utf8')).map((pair) => pair.map((f) => relative(ROOT, f)).join(' ↔ '));
    expect(cycles).toEqual([]);
  });

  it('finds a pair whose one side imports only a type', () => {
    const texts: Record<string, string> = {
      '/p/src/a.ts': "import type { B } from './b';\n",
      '/p/src/b.ts': "import { a } from './a.js';\nexport type { C } from './c/index';\n",
      '/p/src/c/index.ts': "import { b } from '../b';\n",
    };
    expect(twoFileCycles(Object.keys(texts), (f) => texts[f]!)).toEqual([
      ['/p/src/a.ts', '/p/src/b.ts'],
      ['/p/src/b.ts', '/p/src/c/index.ts'],
    ]);
  });
});
