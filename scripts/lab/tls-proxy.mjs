/**
 * The baselines without Wingman, both nginx with the lab certificate,
 * configured as docs/deploy.md §4 configures it (TLS + HTTP/2, WebSocket
 * upgrades, no buffering):
 * - tls-proxy: what a bare relay gives. nginx on the server host forwards
 *   over one TCP hop to the developer's app; the developer's router forwards
 *   the app's port to the dev host (a port forward, DNAT), so the hop crosses
 *   the same delay lines as the tunnel's.
 * - direct: the floor under any P2P transport. nginx on the developer's own
 *   host, in front of the app; the developer's router forwards port 443 to
 *   it, and the reviewer's browser resolves the app's name to the
 *   developer's router: TLS + HTTP/2 straight over the reviewer↔developer
 *   path, with no data channel, shell or Service Worker in between.
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
 * nginx closes an idle upstream connection after this, before the app does:
 * Node's HTTP server (Vite) closes idle keep-alive connections after 5 s
 * (server.keepAliveTimeout), and a request nginx sends on a connection the app
 * is closing fails with a 502 that only server has to retry on. Seen as a
 * reload after a pause whose app never showed, in both nginx baselines.
 * @see https://nodejs.org/api/http.html#serverkeepalivetimeout
 */
const UPSTREAM_IDLE_S = 4;
/**
 * Requests nginx serves on one browser connection (`keepalive_requests`,
 * which also bounds HTTP/2 streams) before it closes it: far above the
 * lab's loads of one run, so the baseline never closes a connection in the
 * middle of one (wingman-server retires its connections between two loads,
 * docs/operations.md, Limits).
 * @see https://nginx.org/en/docs/http/ngx_http_core_module.html#keepalive_requests
 */
const MAX_REQUESTS_PER_CONNECTION = 1_000_000;

/**
 * The developer's router forwards TCP `wanPort` on its WAN address to `hostPort` on the dev host.
 * @param {import('./topology.mjs').Topology} t
 * @param {number} wanPort
 * @param {number} hostPort
 */
function forwardPort(t, wanPort, hostPort) {
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
    String(wanPort),
    '-j',
    'DNAT',
    '--to-destination',
    `${t.hostIp.dev}:${hostPort}`,
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
    String(hostPort),
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-j',
    'ACCEPT',
  );
}

/**
 * nginx as docs/deploy.md §4 has it (TLS + HTTP/2 towards the browser, WebSocket
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
  # Requests per connection before nginx closes it (GOAWAY on HTTP/2); its default of 1000 falls
  # in the middle of the lab's fourth load of the ~330-request app, and Chromium fails the
  # requests it holds back for a free stream on any GOAWAY (not retried): the reload never shows.
  keepalive_requests ${MAX_REQUESTS_PER_CONNECTION};
  client_body_temp_path ${tmp('body')};
  proxy_temp_path ${tmp('proxy')};
  fastcgi_temp_path ${tmp('fastcgi')};
  uwsgi_temp_path ${tmp('uwsgi')};
  scgi_temp_path ${tmp('scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  upstream developer { server ${upstream}; keepalive ${UPSTREAM_KEEPALIVE}; keepalive_timeout ${UPSTREAM_IDLE_S}s; }
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
 * Starts nginx in namespace `ns` on `listenIp`:443 in front of `upstream`; resolves once it listens.
 * @param {{ ns: string, listenIp: string, upstream: string, dir: string, tls: { certFile: string, keyFile: string }, domain: string }} o
 * @returns {Promise<{ url: string, process: import('./proc.mjs').LabProcess }>}
 */
async function startNginx({ ns, listenIp, upstream, dir, tls, domain }) {
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'nginx-tmp', sub), { recursive: true });
  const serverName = `${PROXY_HOST_LABEL}.${domain}`;
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig({ dir, listenIp, upstream, certFile: tls.certFile, keyFile: tls.keyFile, serverName }));
  const proc = startInNamespace({ name: 'nginx', ns, command: NGINX_BIN, args: ['-p', dir, '-c', conf, '-e', 'stderr'] });
  const deadline = Date.now() + LISTEN_TIMEOUT_MS;
  while (!inNs(ns, 'ss', '-Hltn', `sport = :${SERVER_PORT}`).includes(`${listenIp}:${SERVER_PORT}`)) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`nginx did not listen on ${listenIp}:${SERVER_PORT} within ${LISTEN_TIMEOUT_MS / 1000} s; its output:\n${proc.tail()}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { url: `https://${serverName}/`, process: proc };
}

/**
 * A baseline stack: the app on the dev host, nginx where `baseline` puts it,
 * the port forward on the developer's router. `serverIp` is the address the
 * reviewer's browser must resolve the app's name to.
 * @param {{ baseline: 'tls-proxy' | 'direct', topology: import('./topology.mjs').Topology, dir: string, tls: { certFile: string, keyFile: string }, app: import('./lab-app.mjs').AppKind, domain: string, log: (s: string) => void }} o
 * @returns {Promise<{ url: string, serverIp: string, app: import('./lab-app.mjs').LabApp, stop: () => Promise<void> }>}
 */
export async function startBaselineStack({ baseline, topology, dir, tls, app: kind, domain, log }) {
  const processes = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    const direct = baseline === 'direct';
    const app = await startLabApp({ ns: topology.ns.dev, dir, kind, host: direct ? '127.0.0.1' : '0.0.0.0' });
    processes.push(app.process);
    if (direct) forwardPort(topology, SERVER_PORT, SERVER_PORT);
    else forwardPort(topology, app.port, app.port);
    const where = direct
      ? { ns: topology.ns.dev, listenIp: topology.hostIp.dev, upstream: `127.0.0.1:${app.port}` }
      : { ns: topology.publicNs, listenIp: topology.publicIp, upstream: `${topology.wanIp.dev}:${app.port}` };
    const proxy = await startNginx({ ...where, dir, tls, domain });
    processes.push(proxy.process);
    // On one LAN (one router for both) the reviewer reaches the dev host at its own address.
    const sameLan = topology.wanIp.dev === topology.wanIp.reviewer;
    const serverIp = !direct ? topology.publicIp : sameLan ? topology.hostIp.dev : topology.wanIp.dev;
    log(`${baseline}: nginx on ${where.listenIp}:${SERVER_PORT} → ${where.upstream}; the reviewer resolves ${proxy.url} to ${serverIp}`);
    return { url: proxy.url, serverIp, app, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
