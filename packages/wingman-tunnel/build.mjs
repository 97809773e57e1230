// Builds the publishable `wingman-tunnel` package (run by `npm pack` as prepack):
//   dist/bin/wingman.js         the agent CLI, one file
//   dist/bin/host-process.js    the agent's P2P host child (forked from beside wingman.js)
//   dist/bin/wingman-server.js  the tunnel server, one file
//   dist/{client,sw,shim,diagnostics}.js the browser bundles the server serves (+ their maps,
//                               which it serves too), and dist/shell-inline.js, the script it
//                               inlines into the shell page; beside the server's bin/, where
//                               tunnel-server's asset loader looks first (src/browser/assets.ts)
//   assets/inspector/*          the agent's inspector page, read at run time from
//                               <package>/assets/inspector (relay-server's src/inspector/assets.ts
//                               resolves it two levels above the bin: dist/bin/ here)
//   npm-shrinkwrap.json         the native dependency's tree, from the root lockfile
// The three programs are the bundles `npm run build` made (scripts/bundle-bins.mjs:
// everything in the workspace and every pure-JS dependency inside, what the tests
// run); @roamhq/wrtc stays a real dependency: it is a native addon with per-platform
// packages. Needs `npm run build` at the root first.
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const NATIVE = Object.keys(pkg.dependencies);

const entries = {
  wingman: join(root, 'packages/relay-server/dist/bin/wingman.js'),
  'host-process': join(root, 'packages/relay-server/dist/bin/host-process.js'),
  'wingman-server': join(root, 'packages/tunnel-server/dist/bin/wingman-server.js'),
};
const BROWSER_FILES = ['client.js', 'sw.js', 'shim.js', 'diagnostics.js'];
/** Inlined into the shell page, so it has no source map. */
const INLINE_FILES = ['shell-inline.js'];
const browserDist = join(root, 'packages/browser-client/dist');
const RUNTIME_ASSETS = join(root, 'packages/relay-server/assets');
for (const file of [
  ...Object.values(entries),
  ...[...BROWSER_FILES, ...INLINE_FILES].map((f) => join(browserDist, f)),
  join(RUNTIME_ASSETS, 'inspector/index.html'),
]) {
  if (!existsSync(file)) {
    console.error(`wingman-tunnel: ${file} is missing: run \`npm run build\` at the repository root first`);
    process.exit(1);
  }
}

// `wingman --version` and the agent's hello say the relay-server's VERSION: it must be this package's.
const agentVersion = /VERSION = '([^']+)'/.exec(readFileSync(join(root, 'packages/relay-server/src/version.ts'), 'utf8'))?.[1];
if (agentVersion !== pkg.version) {
  console.error(`wingman-tunnel: package.json says ${pkg.version} but packages/relay-server/src/version.ts says ${agentVersion}: keep them in step`);
  process.exit(1);
}

const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'bin'), { recursive: true });
for (const [name, file] of Object.entries(entries)) copyFileSync(file, join(out, 'bin', `${name}.js`));
for (const file of [...BROWSER_FILES.flatMap((f) => [f, `${f}.map`]), ...INLINE_FILES]) copyFileSync(join(browserDist, file), join(out, file));
copyFileSync(join(root, 'LICENSE'), join(here, 'LICENSE'));
rmSync(join(here, 'assets'), { recursive: true, force: true });
cpSync(RUNTIME_ASSETS, join(here, 'assets'), { recursive: true });

// npm-shrinkwrap.json: the exact tree of the native dependency as the root
// lockfile has it (the versions the tests ran), so an install resolves no
// ranges: reproducible, and it works offline from a cache `npm ci` filled.
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const REGISTRY = 'https://registry.npmjs.org';
const packages = {
  '': { name: pkg.name, version: pkg.version, license: pkg.license, bin: pkg.bin, dependencies: pkg.dependencies, engines: pkg.engines },
};
const pending = [...NATIVE];
while (pending.length > 0) {
  const name = pending.shift();
  const key = `node_modules/${name}`;
  if (packages[key]) continue;
  const entry = lock.packages[key];
  if (!entry) {
    console.error(`wingman-tunnel: ${name} is not in package-lock.json`);
    process.exit(1);
  }
  const { dev, devOptional, peer, resolved, ...kept } = entry;
  // registry.npmjs.org in `resolved` is replaced with the user's configured registry by npm.
  const tarball = `${REGISTRY}/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
  packages[key] = { version: kept.version, resolved: resolved ?? tarball, ...kept };
  pending.push(...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}));
}
writeFileSync(
  join(here, 'npm-shrinkwrap.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
);
console.log(
  `wingman-tunnel: built dist/ (${Object.keys(entries).join(', ')}, browser bundles), assets/ and npm-shrinkwrap.json (${Object.keys(packages).length - 1} packages)`,
);
