/**
 * Wingman's real processes for one scenario, each in its namespace:
 * public: coturn + `wingman-server` on the public address (it also serves
 *         the browser client: shell, Service Worker); dev: the fixture app +
 *         `wingman http`.
 * Resolves with the session URL once the agent is registered.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCoturn } from './coturn.mjs';
import { startLabApp } from './lab-app.mjs';
import { startInNamespace } from './proc.mjs';
import { SERVER_PORT } from './topology.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SERVER_BIN = join(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
const AGENT_BIN = join(ROOT, 'packages/relay-server/dist/bin/wingman.js');
/** The lab's apex domain: sessions live at https://<id>.wingman.lab (Chromium maps the names, no DNS). */
export const LAB_DOMAIN = 'wingman.lab';
/** Each bin is up within a second or two; 20 s covers a loaded 2-core CI machine. */
const START_TIMEOUT_MS = 20_000;
/** TURN credentials' lifetime: a scenario lasts a minute; 10 minutes is plenty and still short-lived. */
const TURN_TTL_S = 600;

/** Every built file the lab runs; a missing one means `npm run build` did not run. */
export function missingBuildOutputs() {
  const needed = [SERVER_BIN, AGENT_BIN, join(ROOT, 'packages/browser-client/dist/client.js'), join(ROOT, 'packages/tunnel-server/dist/browser/assets.js')];
  return needed.filter((p) => !existsSync(p));
}

/**
 * @typedef {object} Stack
 * @property {string} url the session URL (https://<id>.wingman.lab/)
 * @property {string | null} link the share link: the URL with its key in the fragment (`#k=…`); null when the agent gives none (`--no-p2p`)
 * @property {string} sessionId
 * @property {import('./lab-app.mjs').LabApp} app
 * @property {import('./proc.mjs').LabProcess[]} processes
 * @property {() => Promise<void>} stop
 */

/**
 * The lab's TLS: the run's CA signs a certificate for the apex, every
 * session host and the public address (the agent dials the address: the
 * lab has no DNS), as a public CA would for a deployed server.
 * @param {import('../lib/test-ca.cjs').TestCa} ca
 * @param {{ publicIp: string, index: number }} where
 * @returns {{ certFile: string, keyFile: string, caFile: string }}
 */
export function issueServerCertificate(ca, { publicIp, index }) {
  const cert = ca.issue(`lab-server-${index}`, {
    serialHex: (index + 1).toString(16),
    altNames: [`DNS:${LAB_DOMAIN}`, `DNS:*.${LAB_DOMAIN}`, `IP:${publicIp}`],
  });
  return { ...cert, caFile: ca.caFile };
}

/**
 * @param {{ topology: import('./topology.mjs').Topology, dir: string, tls: { certFile: string, keyFile: string, caFile: string }, app?: import('./lab-app.mjs').AppKind, p2pEnabled: boolean, p2pTimeoutMs: number, agentArgs?: string[], env?: Record<string, string>, log: (s: string) => void }} options
 *   env: more environment for the tunnel server and the agent (the lab's --ab, ab-mode.mjs)
 *   tls: wingman-server's certificate and key (--tls-cert/--tls-key, docs/deploy.md §3b) and the CA the agent trusts
 * @returns {Promise<Stack>}
 */
export async function startStack({ topology, dir, tls, app: appKind = 'fixture', p2pEnabled, p2pTimeoutMs, agentArgs = [], env = {}, log }) {
  const { publicNs, publicIp, ns } = topology;
  const processes = [];
  const stop = async () => {
    // Agent first, so its session closes cleanly; then the rest.
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    const coturn = await startCoturn({ ns: publicNs, ip: publicIp, dir, labRange: ['10.231.0.0', '10.231.255.255'], peerRanges: topology.reachableRanges });
    processes.push(coturn.process);
    log(`coturn on ${publicIp}:3478 (udp+tcp)`);

    const token = randomBytes(24).toString('hex');
    const server = startInNamespace({
      name: 'wingman-server',
      ns: publicNs,
      command: process.execPath,
      args: [
        SERVER_BIN,
        '--host',
        publicIp,
        '--port',
        String(SERVER_PORT),
        '--public-url',
        `https://${LAB_DOMAIN}`,
        '--tls-cert',
        tls.certFile,
        '--tls-key',
        tls.keyFile,
        '--domain-is-public-suffix',
        '--json',
      ],
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        WINGMAN_TOKENS: token,
        P2P_ENABLED: String(p2pEnabled),
        P2P_TIMEOUT_MS: String(p2pTimeoutMs),
        STUN_SERVERS: coturn.stunUrls.join(','),
        TURN_URLS: coturn.turnUrls.join(','),
        TURN_SECRET: coturn.secret,
        TURN_TTL_S: String(TURN_TTL_S),
        ...env,
      },
    });
    processes.push(server);
    await server.waitFor((e) => e.event === 'listening', START_TIMEOUT_MS, 'listening');
    log(`wingman-server on ${publicIp}:${SERVER_PORT}`);

    const app = await startLabApp({ ns: ns.dev, dir, kind: appKind, host: '127.0.0.1' });
    processes.push(app.process);
    const appPort = app.port;

    // A crash of a P2P host process (one per viewer, docs/architecture.md) ends its viewer's P2P session.
    let p2pHostCrashes = 0;
    // WINGMAN_LAB_REQUESTS: every request the agent logged (its transport), with when the lab read it.
    const agentRequests = [];
    const started = performance.now();
    const agent = startInNamespace({
      name: 'wingman-agent',
      onEvent: (e) => {
        if (e.event === 'warning' && e.code === 'WARN_P2P_HOST_CRASHED') p2pHostCrashes++;
        if (process.env.WINGMAN_LAB_REQUESTS && e.event === 'request') agentRequests.push({ readAtMs: Math.round(performance.now() - started), ...e });
      },
      ns: ns.dev,
      command: process.execPath,
      args: [AGENT_BIN, 'http', `127.0.0.1:${appPort}`, '--server', `https://${publicIp}`, '--token', token, '--json', '--new-session', ...agentArgs],
      // A private CA: the agent trusts it as docs/deploy.md §3b says. WINGMAN_PUBLIC: the lab's reviewers open the
      // session by its host name (link access is not what the lab measures).
      env: { ...process.env, WINGMAN_STATE_DIR: join(dir, 'agent-state'), NODE_EXTRA_CA_CERTS: tls.caFile, WINGMAN_PUBLIC: '1', ...env },
    });
    processes.push(agent);
    const ready = await agent.waitFor((e) => e.event === 'ready', START_TIMEOUT_MS, 'ready');
    const url = String(ready.url);
    const host = new URL(url).host;
    if (!url.startsWith('https://') || !host.endsWith(`.${LAB_DOMAIN}`)) throw new Error(`unexpected session URL ${url}`);
    const link = ready.link === undefined ? null : String(ready.link);
    if (link !== null && !link.startsWith(`${url}#k=`)) throw new Error(`the agent's link ${link} is not the session URL with a key`);
    log(`agent ready: ${url}`);
    return {
      url,
      link,
      sessionId: String(ready.sessionId),
      app,
      stunUrls: coturn.stunUrls,
      processes,
      stop,
      p2pHostCrashes: () => p2pHostCrashes,
      agentRequests,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
