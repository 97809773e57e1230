/**
 * The baseline a bare relay gives: a plain TLS reverse proxy on the server
 * host (nginx, configured as deploy.md §4 configures it, with a lab
 * certificate) forwarding over one TCP hop to the developer's app. The
 * developer's router forwards the app's port to the dev host (a port
 * forward, DNAT), so the hop crosses the same delay lines as the tunnel's.
 * No Wingman process runs: the reviewer opens https://app.wingman.lab/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLabApp } from './lab-app.mjs';
import { inNs, iptables } from './netns.mjs';
import { startInNamespace } from './proc.mjs';
import { SERVER_PORT } from './topology.mjs';

/** Debian's nginx (apt-get install nginx). */
export const NGINX_BIN = '/usr/sbin/nginx';
/** The proxied app's name under the lab domain (the lab certificate covers *.wingman.lab). */
export const PROXY_HOST_LABEL = 'app';
/** nginx listens within milliseconds; 20 s covers a loaded 2-core machine. */
const LISTEN_TIMEOUT_MS = 20_000;
const POLL_MS = 50;
/** Idle upstream connections nginx keeps to the developer: enough for a browser's six, like a relay's one long-lived tunnel. */
const UPSTREAM_KEEPALIVE = 16;

/**
 * The developer's router forwards `port` on its WAN address to the dev host.
 * @param {import('./topology.mjs').Topology} t
 * @param {number} port
 */
export function forwardAppPort(t, port) {
  const router = t.routerNs.dev;
  iptables(
    router,
    '-t',
    'nat',
    '-A',
    'PREROUTING',
    '-i',
    'wan',
    '-p',
    'tcp',
    '-d',
    t.wanIp.dev,
    '--dport',
    String(port),
    '-j',
    'DNAT',
    '--to-destination',
    `${t.hostIp.dev}:${port}`,
  );
  iptables(
    router,
    '-I',
    'FORWARD',
    '1',
    '-i',
    'wan',
    '-o',
    'br0',
    '-p',
    'tcp',
    '-d',
    t.hostIp.dev,
    '--dport',
    String(port),
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-j',
    'ACCEPT',
  );
}

/**
 * nginx as deploy.md §4 has it (TLS + HTTP/2 towards the browser, WebSocket
 * upgrades, no buffering), with an upstream that keeps its connections to
 * the developer open (a relay's tunnel is one long-lived connection too;
 * the `Connection` header is cleared, not `close`, so keep-alive works).
 * @param {{ dir: string, listenIp: string, upstream: string, certFile: string, keyFile: string, serverName: string }} o
 */
export function nginxConfig({ dir, listenIp, upstream, certFile, keyFile, serverName }) {
  const tmp = (name) => join(dir, 'nginx-tmp', name);
  return `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${tmp('body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream developer { server ${upstream}; keepalive ${UPSTREAM_KEEPALIVE}; }
  server {
    listen ${listenIp}:${SERVER_PORT} ssl http2;
    server_name ${serverName};
    ssl_certificate     ${certFile};
    ssl_certificate_key ${keyFile};
    location / {
      proxy_pass http://developer;
      proxy_http_version 1.1;
      # The dev server's own name for itself (Vite rejects unknown Host headers).
      proxy_set_header Host ${upstream};
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1h;
      client_max_body_size 0;
    }
  }
}
`;
}

/**
 * Starts nginx in the public namespace; resolves once it listens.
 * @param {{ topology: import('./topology.mjs').Topology, dir: string, appPort: number, tls: { certFile: string, keyFile: string }, domain: string }} o
 * @returns {Promise<{ url: string, process: import('./proc.mjs').LabProcess }>}
 */
export async function startTlsProxy({ topology, dir, appPort, tls, domain }) {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'nginx-tmp', sub), { recursive: true });
  const serverName = `${PROXY_HOST_LABEL}.${domain}`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    nginxConfig({ dir, listenIp: topology.publicIp, upstream: `${topology.wanIp.dev}:${appPort}`, certFile: tls.certFile, keyFile: tls.keyFile, serverName }),
  );
  const proc = startInNamespace({ name: 'nginx', ns: topology.publicNs, command: NGINX_BIN, args: ['-p', dir, '-c', conf, '-e', 'stderr'] });
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  while (!inNs(topology.publicNs, 'ss', '-Hltn', `sport = :${SERVER_PORT}`).includes(`${topology.publicIp}:${SERVER_PORT}`)) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`nginx did not listen on ${topology.publicIp}:${SERVER_PORT} within ${LISTEN_TIMEOUT_MS / 1000} s; its output:\n${proc.tail()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { url: `https://${serverName}/`, process: proc };
}

/**
 * The whole baseline: the app on the dev host (all addresses), the port
 * forward on its router, nginx on the server host.
 * @param {{ topology: import('./topology.mjs').Topology, dir: string, tls: { certFile: string, keyFile: string }, app: import('./lab-app.mjs').AppKind, domain: string, log: (s: string) => void }} o
 * @returns {Promise<{ url: string, app: import('./lab-app.mjs').LabApp, stop: () => Promise<void> }>}
 */
export async function startProxyStack({ topology, dir, tls, app: kind, domain, log }) {
  const processes = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    const app = await startLabApp({ ns: topology.ns.dev, dir, kind, host: '0.0.0.0' });
    processes.push(app.process);
    forwardAppPort(topology, app.port);
    const proxy = await startTlsProxy({ topology, dir, appPort: app.port, tls, domain });
    processes.push(proxy.process);
    log(`nginx on ${topology.publicIp}:${SERVER_PORT} → ${topology.wanIp.dev}:${app.port} → ${topology.hostIp.dev}:${app.port}: ${proxy.url}`);
    return { url: proxy.url, app, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
