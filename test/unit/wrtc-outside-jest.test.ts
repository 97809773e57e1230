/**
 * @roamhq/wrtc never loads into jest for the tests under test/: it can crash
 * its process natively, and jest's is the one running every test of the
 * phase. No file there loads wrtc, the Node viewer (viewer/p2p-viewer) or
 * p2p/webrtc as code; the Node viewer runs in a child process
 * (test/helpers/p2p-viewer-process.ts), and wrtc peers of a test's own in a
 * script it runs (test/helpers/node-script.ts), whose text is a template
 * string, not an import. Read with the TypeScript parser: type-only imports
 * load nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
/** Modules that load @roamhq/wrtc when loaded. */
const NATIVE = /^@roamhq\/wrtc$|\/viewer\/p2p-viewer$|\/p2p\/webrtc$/;

/** The modules a TypeScript file loads as code: value imports, require() and import() of a string. */
export function loadedModules(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const typesOnly =
        clause !== undefined &&
        (clause.phaseModifier === ts.SyntaxKind.TypeKeyword ||
          (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.every((e) => e.isTypeOnly)));
      if (!typesOnly) found.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const callee = node.expression;
      if ((ts.isIdentifier(callee) && callee.text === 'require') || callee.kind === ts.SyntaxKind.ImportKeyword) found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('@roamhq/wrtc outside jest', () => {
  it('is loaded, directly or through the Node viewer, by no test or helper under test/', () => {
    const loads = tsFiles(join(ROOT, 'test')).flatMap((file) =>
      loadedModules(file, readFileSync(file, 'utf8'))
        .filter((m) => NATIVE.test(m))
        .map((m) => `${relative(ROOT, file)} loads ${m}`),
    );
    expect(loads).toEqual([]);
  });

  it('tells loading from naming: type-only imports and a script in a template string load nothing', () => {
    const text = [
      "import type { P2PViewerOptions } from '../../packages/relay-server/src/viewer/p2p-viewer';",
      "import { type RtcPeerConnection } from '../../packages/relay-server/src/p2p/webrtc';",
      "const SCRIPT = `const wrtc = require('@roamhq/wrtc');`;",
      "import { connectP2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';",
      "const wrtc = require('@roamhq/wrtc');",
      "void import('../../packages/relay-server/src/p2p/webrtc');",
    ].join('\n');
    expect(loadedModules('x.ts', text)).toEqual([
      '../../packages/relay-server/src/viewer/p2p-viewer',
      '@roamhq/wrtc',
      '../../packages/relay-server/src/p2p/webrtc',
    ]);
  });
});
