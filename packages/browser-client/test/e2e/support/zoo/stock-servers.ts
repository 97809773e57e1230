/**
 * Stock HTTP servers from Debian serving a docroot (docroot.ts) on a
 * loopback port, as a developer starts them: `php -S`, `busybox httpd`,
 * nginx with keep-alive and with every response `Connection: close`, and
 * lighttpd. Each is a process the test helpers track (killAll() ends it);
 * a missing one fails with the package that installs it.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCommand } from '../../../../../../test/helpers/processes';
import { freePort, waitForListening } from '../../../../../../test/helpers/ports';
import type { Docroot } from './docroot';

/** Each starts in well under a second here; 20 s covers a loaded 2-core machine. */
const START_TIMEOUT_MS = 20_000;

export interface StockServer {
  /** What the developer ran, for test names. */
  name: string;
  /** Starts it on a free port serving `docroot`; resolves with the port once it accepts connections. */
  start(docroot: Docroot): Promise<number>;
}

function executable(path: string, pkg: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${path} is missing: apt-get install ${pkg}`);
  }
  return path;
}

const php: StockServer = {
  name: 'php -S',
  async start(docroot) {
    const port = await freePort();
    const proc = startCommand(executable('/usr/bin/php', 'php-cli'), ['-S', `127.0.0.1:${port}`, '-t', docroot.dir]);
    await proc.waitForLine(/Development Server .* started/, { timeoutMs: START_TIMEOUT_MS, stream: 'both' });
    return port;
  },
};

const busybox: StockServer = {
  name: 'busybox httpd',
  async start(docroot) {
    const port = await freePort();
    startCommand(executable('/usr/bin/busybox', 'busybox'), ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', docroot.dir]);
    await waitForListening(port, 'busybox httpd', START_TIMEOUT_MS);
    return port;
  },
};

/** nginx in the foreground, one process, its own files beside the docroot; `keepaliveTimeout` 0 closes the connection after each response. */
function nginx(name: string, keepaliveTimeout: string): StockServer {
  return {
    name,
    async start(docroot) {
      const port = await freePort();
      const conf = join(docroot.work, 'nginx.conf');
      const tmp = (what: string) => `${what}_temp_path ${join(docroot.work, `nginx-${what}`)};`;
      writeFileSync(
        conf,
        [
          'daemon off;',
          'master_process off;',
          `pid ${conf}.pid;`,
          'error_log stderr warn;',
          'events { worker_connections 256; }',
          'http {',
          '  include /etc/nginx/mime.types;',
          '  access_log off;',
          `  ${tmp('client_body')} ${tmp('proxy')} ${tmp('fastcgi')} ${tmp('uwsgi')} ${tmp('scgi')}`,
          `  keepalive_timeout ${keepaliveTimeout};`,
          `  server { listen 127.0.0.1:${port}; root ${docroot.dir}; }`,
          '}',
        ].join('\n'),
      );
      startCommand(executable('/usr/sbin/nginx', 'nginx'), ['-c', conf, '-e', 'stderr']);
      await waitForListening(port, 'nginx', START_TIMEOUT_MS);
      return port;
    },
  };
}

const lighttpd: StockServer = {
  name: 'lighttpd',
  async start(docroot) {
    const port = await freePort();
    const conf = join(docroot.work, 'lighttpd.conf');
    writeFileSync(
      conf,
      [
        `server.document-root = "${docroot.dir}"`,
        'server.bind = "127.0.0.1"',
        `server.port = ${port}`,
        'index-file.names = ( "index.html" )',
        'mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )',
      ].join('\n'),
    );
    startCommand(executable('/usr/sbin/lighttpd', 'lighttpd'), ['-D', '-f', conf]);
    await waitForListening(port, 'lighttpd', START_TIMEOUT_MS);
    return port;
  },
};

/** The zoo's stock servers, in the order the tests run them. */
export const STOCK_SERVERS: readonly StockServer[] = [php, busybox, nginx('nginx (keep-alive)', '75s'), nginx('nginx (Connection: close)', '0'), lighttpd];
