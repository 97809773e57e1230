/**
 * The imports of a TypeScript or JavaScript source, parsed with the
 * TypeScript compiler: static imports, re-exports, dynamic `import()` and
 * `require()` with a literal specifier, and whether each one is erased at
 * build (type-only). Code inside strings and template literals (a script
 * for a child process) is text, not an import.
 */
import ts from 'typescript';

export interface ImportEdge {
  /** The module specifier as written. */
  specifier: string;
  /** True when the import is erased at build: `import type`, `export type … from`, or every named binding marked `type`. */
  typeOnly: boolean;
}

/** Every static import, re-export and dynamic `import()` / `require()` of a TypeScript source. */
export function importsOf(fileName: string, text: string): ImportEdge[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings : undefined;
      const typeOnly =
        clause !== undefined &&
        (clause.phaseModifier === ts.SyntaxKind.TypeKeyword ||
          (clause.name === undefined && named !== undefined && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause : undefined;
      const typeOnly = node.isTypeOnly || (named !== undefined && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly));
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))
        edges.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node)) {
      return; // `import('x').T` in a type position
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}
