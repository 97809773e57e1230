// Builds the browser bundles into dist/ (`npm run build` type-checks each
// runtime's tsconfig first):
//   dist/shim.js   WebSocket shim, injected into the app's HTML
//   dist/sw.js     Service Worker, with the shim's code embedded (it serves
//                  /__wingman/shim.js from memory: frame loads never wait on
//                  the network for it)
//   dist/client.js the shell page's script
//   dist/diagnostics.js the viewer diagnostics page's script
//   dist/shell-inline.js the shell's inline script (no source map: the tunnel
//                  server inlines its text into the shell page and hashes it
//                  for the CSP); the build fails when it is over its size
//                  budget (bundle-budget.mjs)
// The protocol is bundled from its TypeScript sources, so tree shaking sees
// ES modules. Targets: the browsers with Service Workers, transferable
// ArrayBuffers and RTCDataChannel that reviewers use (ES2020 covers them).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { checkBundleBudget } from './bundle-budget.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const common = {
  bundle: true,
  format: 'iife',
  target: ['es2020'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  alias: { '@wingman/protocol': join(here, '..', 'protocol', 'src', 'index.ts') },
  // workbox-window checks NODE_ENV to strip its dev-only logging.
  define: { 'process.env.NODE_ENV': '"production"' },
};

await build({ ...common, entryPoints: [join(here, 'src/shim/shim.ts')], outfile: join(here, 'dist/shim.js'), tsconfig: join(here, 'tsconfig.page.json') });
const shim = readFileSync(join(here, 'dist/shim.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
await build({
  ...common,
  entryPoints: [join(here, 'src/sw/sw.ts')],
  outfile: join(here, 'dist/sw.js'),
  tsconfig: join(here, 'tsconfig.sw.json'),
  define: { ...common.define, __WINGMAN_SHIM__: JSON.stringify(shim) },
});
await build({ ...common, entryPoints: [join(here, 'src/page/client.ts')], outfile: join(here, 'dist/client.js'), tsconfig: join(here, 'tsconfig.page.json') });
await build({
  ...common,
  entryPoints: [join(here, 'src/page/diagnostics-page.ts')],
  outfile: join(here, 'dist/diagnostics.js'),
  tsconfig: join(here, 'tsconfig.page.json'),
});
await build({
  ...common,
  entryPoints: [join(here, 'src/page/shell-inline.ts')],
  outfile: join(here, 'dist/shell-inline.js'),
  tsconfig: join(here, 'tsconfig.page.json'),
  sourcemap: false,
});
checkBundleBudget('dist/shell-inline.js', readFileSync(join(here, 'dist/shell-inline.js'), 'utf8'));
