/**
 * The code registries are complete: every `ERR_…` / `WARN_…` string literal in
 * the sources of every package is listed in a registry of
 * packages/protocol/src/error-registry.ts (or is a foreign code Wingman only
 * reads), and every registered code is explained in the docs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  CLI_FATAL_CODES,
  CONTROL_ERROR_CODES,
  ERROR_CODES,
  HTTP_ERROR_CODES,
  INSPECTOR_ERROR_CODES,
  PROTOCOL_ERROR_CODES,
  SIGNALING_ERROR_CODES,
  WARNING_CODES,
} from '../../src';

/**
 * Codes of other software that Wingman reads, never sends: Node.js / OpenSSL
 * error codes the agent recognises to explain a failure.
 */
const FOREIGN_ERROR_CODES = ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_TLS_CERT_ALTNAME_INVALID'];
/** Every code of every registry (foreign ones excluded). */
const ALL_WINGMAN_CODES: ReadonlySet<string> = new Set<string>([
  ...PROTOCOL_ERROR_CODES,
  ...CONTROL_ERROR_CODES,
  ...SIGNALING_ERROR_CODES,
  ...HTTP_ERROR_CODES,
  ...CLI_FATAL_CODES,
  ...INSPECTOR_ERROR_CODES,
  ...WARNING_CODES,
]);
const ROOT = resolve(__dirname, '../../../..');
const SOURCE_DIRS = ['protocol', 'tunnel-server', 'relay-server', 'browser-client'].map((p) => join(ROOT, 'packages', p, 'src'));
const DOCS = ['docs/PROTOCOL.md', 'docs/operations.md', 'docs/cli.md', 'README.md'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
/** A code as a quoted string literal: '…', "…" or `…`. */
const LITERAL = /['"`]((?:ERR|WARN)_[A-Z0-9_]+)['"`]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('error code registries', () => {
  it('list every code literal the sources use', () => {
    const foreign = new Set<string>(FOREIGN_ERROR_CODES);
    const missing: string[] = [];
    for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
      for (const m of readFileSync(file, 'utf8').matchAll(LITERAL)) {
        if (!ALL_WINGMAN_CODES.has(m[1]!) && !foreign.has(m[1]!)) missing.push(`${m[1]} (${relative(ROOT, file)})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('finds the literals it checks (the scan is not empty)', () => {
    const seen = new Set(SOURCE_DIRS.flatMap(sourceFiles).flatMap((f) => [...readFileSync(f, 'utf8').matchAll(LITERAL)].map((m) => m[1]!)));
    for (const code of ['ERR_PROTOCOL', 'ERR_VIEWER_STREAMS', 'ERR_TOKEN_REFUSED', 'ERR_INSPECTOR_HOST', 'WARN_P2P_HOST_CRASHED']) expect(seen).toContain(code);
  });

  it('explain every registered code in docs/PROTOCOL.md, docs/operations.md, docs/cli.md or README.md', () => {
    const undocumented = [...ALL_WINGMAN_CODES].filter((code) => !DOCS.includes(code));
    expect(undocumented).toEqual([]);
  });

  it('hold well-formed codes, the protocol layer being exactly the wire numbers', () => {
    expect([...PROTOCOL_ERROR_CODES].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const list of [CONTROL_ERROR_CODES, SIGNALING_ERROR_CODES, HTTP_ERROR_CODES, CLI_FATAL_CODES, INSPECTOR_ERROR_CODES]) {
      for (const code of list) expect(code).toMatch(/^ERR_[A-Z0-9_]+$/);
      expect(new Set(list).size).toBe(list.length);
    }
    for (const code of WARNING_CODES) expect(code).toMatch(/^WARN_[A-Z0-9_]+$/);
  });
});
