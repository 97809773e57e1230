/**
 * One export of a page-side module, bundled with esbuild for a bare test
 * page (no shell, no Service Worker): a test runs it in a real browser
 * against real browser objects.
 */
import { join } from 'node:path';
import { build } from 'esbuild';

const packageRoot = join(__dirname, '..', '..', '..');

/** Script text that sets `window[name]` to export `name` of `modulePath` (relative to the package root, e.g. `src/page/x`). */
export async function bundleExportForPage(modulePath: string, name: string): Promise<string> {
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`not an export name: ${name}`);
  const out = await build({
    stdin: {
      contents: `import { ${name} } from './${modulePath}'; (window as unknown as Record<string, unknown>).${name} = ${name};`,
      resolveDir: packageRoot,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    alias: { '@wingman/protocol': join(packageRoot, '..', 'protocol', 'src', 'index.ts') },
  });
  return out.outputFiles[0]!.text;
}
