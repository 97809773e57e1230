/**
 * One export of a page-side module, bundled with esbuild for a bare test
 * page (no shell, no Service Worker): a test runs it in a real browser
 * against real browser objects.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchChromium, type LaunchedChromium } from './browser';
import { createStaticServer } from './static-server';

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

/** A Chromium on a bare page (`/` of host `name` on a static server) that ran the bundle of one export (bundleExportForPage). */
export interface ModulePage {
  browser: LaunchedChromium;
  close(): Promise<void>;
}

/** Serves a page that loads export `exportName` of `modulePath` and opens it in a new Chromium. */
export async function openModulePage(name: string, modulePath: string, exportName: string): Promise<ModulePage> {
  const server = await createStaticServer({
    routes: {
      '/': { type: 'text/html; charset=utf-8', body: `<!doctype html><script src="/${name}.js"></script>` },
      [`/${name}.js`]: { type: 'text/javascript', body: await bundleExportForPage(modulePath, exportName) },
    },
  });
  let browser: LaunchedChromium | undefined;
  try {
    browser = await launchChromium();
    await browser.page.goto(`${server.origin(name)}/`);
  } catch (err) {
    await browser?.close();
    await server.close();
    throw err;
  }
  const launched = browser;
  return {
    browser: launched,
    async close() {
      await launched.close();
      await server.close();
    },
  };
}
