#!/usr/bin/env node
/**
 * The last step of `npm run build` for the Node programs: after `tsc -b`, each one
 * is bundled by esbuild into one file with its dependencies inside, the form the
 * published `wingman-tunnel` package ships (packages/wingman-tunnel/build.mjs copies
 * these files), so the tests run what users install:
 *   relay-server/dist/bin/wingman.js         the agent (over tsc's output of its entry)
 *   relay-server/dist/bin/host-process.js    its P2P host process, forked from beside it
 *   tunnel-server/dist/bin/wingman-server.js the tunnel server (over tsc's output)
 * A process then reads one file instead of resolving and compiling ~300 modules
 * (docs/architecture.md, builds: the start-up CPU this saves). The other files
 * of dist/ stay tsc's (the benches and `main` import them one by one).
 *
 * Each entry is compiled to CommonJS alone and bundled from tsc's output of every
 * other module, so each dependency is loaded through its `require` entry, as Node
 * loads it unbundled (ws's ESM wrapper, for one, lacks the `WebSocket.Receiver` its
 * CommonJS entry has). @roamhq/wrtc stays outside: a native addon with per-platform
 * packages. Each bundle sits at dist/bin/, as its entry's tsc output does or a
 * sibling's, so paths built from `__dirname` (assets, the host process) resolve alike.
 */
import { build, transform } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages');

/** package, its entry under src/ (no extension), the bundle under dist/. */
const BUNDLES = [
  { pkg: 'relay-server', entry: 'bin/wingman', out: 'bin/wingman.js' },
  { pkg: 'relay-server', entry: 'p2p/host-process', out: 'bin/host-process.js' },
  { pkg: 'tunnel-server', entry: 'bin/wingman-server', out: 'bin/wingman-server.js' },
];

/** @param {{ pkg: string, entry: string, out: string }} b */
async function bundle({ pkg, entry, out }) {
  const source = join(packages, pkg, 'src', `${entry}.ts`);
  const { code } = await transform(readFileSync(source, 'utf8'), { loader: 'ts', format: 'cjs', target: 'node20', sourcefile: source });
  await build({
    // Its imports resolve where tsc put its output.
    stdin: { contents: code, resolveDir: join(packages, pkg, 'dist', dirname(entry)), sourcefile: `${entry}.js`, loader: 'js' },
    outfile: join(packages, pkg, 'dist', out),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['@roamhq/wrtc'],
    legalComments: 'inline',
    // Beside it, not named in it: scripts/bench/cpu-profile.mjs reads it to name each sample's module.
    sourcemap: 'external',
    logLevel: 'warning',
  });
}

await Promise.all(BUNDLES.map(bundle));
