/**
 * Stock HTTP servers from Debian serving a docroot (docroot.ts) on a
 * loopback port, as a developer starts them: `python3 -m http.server`
 * (HTTP/1.0: it closes after each response), Ruby's WEBrick (`ruby -run
 * -e httpd`), `php -S`, `busybox httpd`, and nginx and lighttpd each with
 * keep-alive and with every response `Connection: close`. Each is a
 * process the test helpers track (killAll() ends it); a missing one fails
 * with the package that installs it.
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

interface ServerCommand {
  name: string;
  command: string;
  /** The Debian packages that install it (and what it needs), for the message when it is missing. */
  packages: string;
  /** Its configuration file, beside the docroot, where it takes one: the file's name and its lines. */
  config?: { file: string; lines(port: number, docroot: Docroot, path: string): string[] };
  /** Its arguments to serve `docroot` on 127.0.0.1:port; `config`: the path of its configuration file (empty without one). */
  args(port: number, docroot: Docroot, config: string): string[];
  /** A line it prints once it listens; without one, its port is polled until it accepts connections. */
  ready?: RegExp;
}

function stockServer({ name, command, packages, config, args, ready }: ServerCommand): StockServer {
  return {
    name,
    async start(docroot) {
      const port = await freePort();
      const path = config ? join(docroot.work, config.file) : '';
      if (config) writeFileSync(path, config.lines(port, docroot, path).join('\n'));
      const proc = startCommand(executable(command, packages), args(port, docroot, path));
      if (ready) await proc.waitForLine(ready, { timeoutMs: START_TIMEOUT_MS, stream: 'both' });
      else await waitForListening(port, name, START_TIMEOUT_MS);
      return port;
    },
  };
}

const pythonHttpServer = stockServer({
  name: 'python3 -m http.server',
  command: '/usr/bin/python3',
  packages: 'python3',
  args: (port, docroot) => ['-u', '-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', docroot.dir],
  ready: /Serving HTTP on/,
});

const webrick = stockServer({
  name: 'ruby -run -e httpd (WEBrick)',
  command: '/usr/bin/ruby',
  packages: 'ruby ruby-webrick',
  args: (port, docroot) => ['-run', '-e', 'httpd', '--', '--bind-address=127.0.0.1', `--port=${port}`, docroot.dir],
  ready: /HTTPServer#start/,
});

const php = stockServer({
  name: 'php -S',
  command: '/usr/bin/php',
  packages: 'php-cli',
  args: (port, docroot) => ['-S', `127.0.0.1:${port}`, '-t', docroot.dir],
  ready: /Development Server .* started/,
});

const busybox = stockServer({
  name: 'busybox httpd',
  command: '/usr/bin/busybox',
  packages: 'busybox',
  args: (port, docroot) => ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', docroot.dir],
});

/** nginx in the foreground, one process, its own files beside the docroot; `keepaliveTimeout` 0 closes the connection after each response. */
function nginx(name: string, keepaliveTimeout: string): StockServer {
  const temp = (docroot: Docroot, what: string) => `${what}_temp_path ${join(docroot.work, `nginx-${what}`)};`;
  return stockServer({
    name,
    command: '/usr/sbin/nginx',
    packages: 'nginx',
    config: {
      file: 'nginx.conf',
      lines: (port, docroot, path) => [
        'daemon off;',
        'master_process off;',
        `pid ${path}.pid;`,
        'error_log stderr warn;',
        'events { worker_connections 256; }',
        'http {',
        '  include /etc/nginx/mime.types;',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((what) => `  ${temp(docroot, what)}`),
        `  keepalive_timeout ${keepaliveTimeout};`,
        `  server { listen 127.0.0.1:${port}; root ${docroot.dir}; }`,
        '}',
      ],
    },
    args: (_port, _docroot, config) => ['-c', config, '-e', 'stderr'],
  });
}

/** lighttpd in the foreground; `maxKeepAliveRequests` 0 closes the connection after each response. */
function lighttpd(name: string, maxKeepAliveRequests: number): StockServer {
  return stockServer({
    name,
    command: '/usr/sbin/lighttpd',
    packages: 'lighttpd',
    config: {
      file: 'lighttpd.conf',
      lines: (port, docroot) => [
        `server.document-root = "${docroot.dir}"`,
        'server.bind = "127.0.0.1"',
        `server.port = ${port}`,
        'index-file.names = ( "index.html" )',
        'mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )',
        `server.max-keep-alive-requests = ${maxKeepAliveRequests}`,
      ],
    },
    args: (_port, _docroot, config) => ['-D', '-f', config],
  });
}

/** The zoo's stock servers, in the order the tests run them. */
export const STOCK_SERVERS: readonly StockServer[] = [
  pythonHttpServer,
  webrick,
  php,
  busybox,
  nginx('nginx (keep-alive)', '75s'),
  nginx('nginx (Connection: close)', '0'),
  lighttpd('lighttpd (keep-alive)', 100),
  lighttpd('lighttpd (Connection: close)', 0),
];
