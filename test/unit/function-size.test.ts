/**
 * No function is longer than its limit: 150 lines in the P2P host
 * (relay-server/src/p2p), the page (browser-client/src/page) and the Service
 * Worker (browser-client/src/sw), 200 anywhere else under packages/<name>/src.
 *
 * A function is a declaration, an expression, an arrow, a method, a
 * constructor or an accessor, parsed with the TypeScript compiler. Its length
 * is its span, from its first line to the last line of its body, nested
 * functions included: a factory that returns closures is as long as all of
 * them together, and is split by moving closures into functions or modules of
 * their own.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import ts from 'typescript';
import { packageSources } from '../helpers/source-files';

const ROOT = resolve(__dirname, '../..');
const DEFAULT_LIMIT_LINES = 200;
const STRICT_LIMIT_LINES = 150;
const STRICT_FOLDERS = ['packages/relay-server/src/p2p/', 'packages/browser-client/src/page/', 'packages/browser-client/src/sw/'];

interface LongFunction {
  /** `path:line` of the function's first line, the path relative to the repository. */
  where: string;
  name: string;
  lines: number;
  limit: number;
}

function limitFor(path: string): number {
  return STRICT_FOLDERS.some((folder) => path.startsWith(folder)) ? STRICT_LIMIT_LINES : DEFAULT_LIMIT_LINES;
}

function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) &&
    node.body !== undefined
  );
}

/** The function's own name, or the name of what it is assigned to. */
function nameOf(node: ts.FunctionLikeDeclaration): string {
  if (node.name !== undefined) return node.name.getText();
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name !== undefined) {
    return parent.name.getText();
  }
  return '(anonymous)';
}

function longFunctions(path: string, text: string): LongFunction[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const lineOf = (position: number): number => file.getLineAndCharacterOfPosition(position).line + 1;
  const limit = limitFor(path);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunctionWithBody(node)) {
      const first = lineOf(node.getStart(file));
      const lines = lineOf(node.getEnd()) - first + 1;
      if (lines > limit) found.push({ where: `${path}:${first}`, name: nameOf(node), lines, limit });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('function size', () => {
  it('no function is longer than the limit of its folder', () => {
    const files = packageSources(ROOT);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files
      .flatMap((file) => longFunctions(relative(ROOT, file), readFileSync(file, 'utf8')))
      .map((f) => `${f.where} ${f.name}: ${f.lines} lines (limit ${f.limit})`);
    expect(offenders).toEqual([]);
  });

  it('counts a nested function in its enclosing function and applies the strict folders’ limit', () => {
    const body = (n: number): string => '  work();\n'.repeat(n);
    // The sample's name is put together so that no path to a missing file appears in this file's text.
    const sample = (dir: string): string => `${dir}/sample.${'ts'}`;
    const text = `export function outer() {\n  const inner = () => {\n${body(150)}  };\n  return inner;\n}\nclass A {\n  method() {\n${body(10)}  }\n}\n`;
    const page = sample('packages/browser-client/src/page');
    expect(longFunctions(page, text)).toEqual([
      { where: `${page}:1`, name: 'outer', lines: 155, limit: 150 },
      { where: `${page}:2`, name: 'inner', lines: 152, limit: 150 },
    ]);
    expect(longFunctions(sample('packages/protocol/src'), text)).toEqual([]);
  });
});
