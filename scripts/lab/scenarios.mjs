/**
 * The lab's scenarios: a network (topology.mjs router specs), the tunnel
 * server's P2P settings, and the transports the product should end up on.
 * Transport names (reviewer.mjs describePath): host, srflx, relay-udp,
 * relay-tcp (TURN, by how the browser reaches coturn), wingman-relay.
 */

/** The tunnel server's default (.env.example P2P_TIMEOUT_MS): how long a viewer tries ICE. */
export const LAB_P2P_TIMEOUT_MS = 3_000;
/** The bulk download per scenario (50 MiB). */
export const DOWNLOAD_BYTES = 50 * 1024 * 1024;
/** Small requests measured per scenario (after 5 warm-up ones). */
export const SMALL_REQUESTS = 50;
/** The bulk download and upload of WAN scenarios (20 MiB: seconds, not minutes, at 80 ms RTT). */
export const WAN_TRANSFER_BYTES = 20 * 1024 * 1024;

const cone = (host, extra = {}) => ({ nat: 'cone', hosts: [host], ...extra });

/**
 * @typedef {object} Scenario
 * @property {string} name
 * @property {string} title
 * @property {import('./topology.mjs').RouterSpec[]} routers
 * @property {string[]} expect acceptable transports
 * @property {boolean} p2pRequired P2P must become usable (LAN and cone NAT)
 * @property {boolean} [p2pEnabled] server P2P_ENABLED (default true)
 * @property {number} [p2pTimeoutMs] server P2P_TIMEOUT_MS (default LAB_P2P_TIMEOUT_MS)
 * @property {number} [watchFailureMs] tuning: wait this long for Chromium's own ICE 'failed'
 * @property {boolean} [measure] bulk + small requests (default true)
 * @property {import('./wan.mjs').WanSpec} [wan] WAN conditions (delay lines): a WAN scenario
 * @property {boolean} [ci] WAN scenarios: also in the default run (P2P mode only)
 * @property {boolean} [bulkFloor] WAN scenarios: in relay-only mode, also measure the bulk floor (bulk-floor/index.mjs)
 * @property {number} [bulkFloorBytes] bytes of each floor transfer (default: the scenario's download size); less on a lossy path, where the floor moves a few hundred kB/s
 * @property {boolean} [setupRace] WAN scenarios: in relay-only mode, also race the two channel set-up designs (setup-race/index.mjs)
 * @property {boolean} [swFloor] WAN scenarios: in relay-only mode, also reload under the Service Worker floor and the shell floor (floor-sw.mjs)
 * @property {string} [mode] WAN scenarios: the way Wingman is run (WAN_MODES)
 * @property {Record<string, string>} [env] more environment for the tunnel server and the agent (the `p2p-ab` mode, ab-mode.mjs)
 * @property {string[]} [agentArgs] extra `wingman http` arguments
 * @property {boolean} [blockP2p] hosts reach only the server's HTTP port (topology.mjs allowOnlyServerHttp)
 * @property {boolean} [relayOnly] a relay-only session: the viewer must get no shell
 * @property {boolean} [private] a private session (agent `--private`): the reviewer opens the link with its key,
 *   the app comes only over a verified channel and the tunnel server relays none of it
 * @property {'tls-proxy' | 'direct'} [baseline] no Wingman: nginx on the server host, or on the developer's host (tls-proxy.mjs)
 * @property {import('./lab-app.mjs').AppKind} [app] the developer's app (default: the fixture app)
 */

/** @type {Scenario[]} */
export const SCENARIOS = [
  {
    name: 'lan',
    title: 'same LAN, no NAT',
    routers: [{ nat: 'none', hosts: ['dev', 'reviewer'] }],
    // Direct either way: with mDNS hiding Chromium's host address, the pair is host→host
    // (peer-reflexive) or srflx→host, where the srflx candidate is the reviewer's own LAN
    // address (no NAT on this segment). Seen both ways in CI runs.
    expect: ['host', 'srflx'],
    p2pRequired: true,
  },
  {
    name: 'cone-nat',
    title: 'both behind cone NAT, STUN',
    routers: [cone('dev'), cone('reviewer')],
    expect: ['srflx'],
    p2pRequired: true,
  },
  {
    name: 'symmetric-nat',
    title: 'reviewer behind symmetric NAT',
    routers: [cone('dev'), { nat: 'symmetric', hosts: ['reviewer'] }],
    expect: ['relay-udp'],
    p2pRequired: false,
  },
  {
    name: 'udp-blocked',
    title: 'UDP blocked for the reviewer',
    routers: [cone('dev'), cone('reviewer', { firewall: 'no-udp' })],
    expect: ['relay-tcp', 'wingman-relay'],
    p2pRequired: false,
  },
  {
    name: 'udp-blocked-private',
    title: 'UDP blocked for the reviewer, private session (--private): the verified channel over TURN/TCP',
    routers: [cone('dev'), cone('reviewer', { firewall: 'no-udp' })],
    agentArgs: ['--private'],
    private: true,
    // No relay to fall back on: TURN over TCP is the only path, and it must come up.
    expect: ['relay-tcp'],
    p2pRequired: true,
  },
  {
    name: 'http-only',
    title: 'only the server HTTP port open',
    routers: [cone('dev', { firewall: 'http-only' }), cone('reviewer', { firewall: 'http-only' })],
    expect: ['wingman-relay'],
    p2pRequired: false,
  },
  {
    name: 'p2p-off',
    title: 'P2P disabled (P2P_ENABLED=false)',
    routers: [cone('dev'), cone('reviewer')],
    p2pEnabled: false,
    expect: ['wingman-relay'],
    p2pRequired: false,
  },
];

/**
 * Tuning runs (`npm run lab -- --tuning`, not in CI): everything but HTTP
 * blocked, with the product's P2P timeout moved out of the way, to see how
 * long Chromium alone takes to call ICE failed when packets are dropped vs
 * refused — and that the app's first byte still does not wait for it.
 * @type {Scenario[]}
 */
export const TUNING_SCENARIOS = [
  {
    name: 'ice-fail-drop',
    title: 'all but HTTP dropped, P2P timeout 300 s',
    routers: [cone('dev', { firewall: 'http-only' }), cone('reviewer', { firewall: 'http-only' })],
    p2pTimeoutMs: 300_000,
    watchFailureMs: 200_000,
    measure: false,
    expect: ['wingman-relay'],
    p2pRequired: false,
  },
  {
    name: 'ice-fail-reset',
    title: 'all but HTTP refused (RST/ICMP), P2P timeout 300 s',
    routers: [cone('dev', { firewall: 'http-only', block: 'reset' }), cone('reviewer', { firewall: 'http-only', block: 'reset' })],
    p2pTimeoutMs: 300_000,
    watchFailureMs: 200_000,
    measure: false,
    expect: ['wingman-relay'],
    p2pRequired: false,
  },
  {
    name: 'http-only-reset',
    title: 'only HTTP open, refused (RST/ICMP), default timeout',
    routers: [cone('dev', { firewall: 'http-only', block: 'reset' }), cone('reviewer', { firewall: 'http-only', block: 'reset' })],
    expect: ['wingman-relay'],
    p2pRequired: false,
  },
];

/** Server far from both (80 ms RTT), peers near each other (20 ms). */
const FAR_SERVER = { reviewerServer: { rttMs: 80 }, devServer: { rttMs: 80 }, reviewerDev: { rttMs: 20 } };

/**
 * WAN scenarios (`npm run lab -- --wan`): delay lines at every endpoint
 * (wan.mjs). Each runs in every WAN_MODES mode, one after the other; the
 * default run (and CI) runs the `ci` ones in P2P mode only, for correctness.
 * @type {Scenario[]}
 */
export const WAN_SCENARIOS = [
  {
    name: 'far-server',
    title: 'server 80 ms RTT from both, peers 20 ms apart, cone NATs',
    routers: [cone('dev'), cone('reviewer')],
    wan: FAR_SERVER,
    expect: ['srflx'],
    p2pRequired: true,
    ci: true,
    bulkFloor: true,
    setupRace: true,
    swFloor: true,
  },
  {
    name: 'same-lan-cloud-server',
    title: 'dev and reviewer on one LAN (1 ms) behind one NAT, server 150 ms RTT',
    routers: [{ nat: 'cone', hosts: ['dev', 'reviewer'] }],
    wan: { reviewerServer: { rttMs: 150 }, devServer: { rttMs: 150 }, reviewerDev: { rttMs: 1 } },
    expect: ['host', 'srflx'],
    p2pRequired: true,
  },
  {
    name: 'lossy-mobile',
    title: "reviewer on a mobile link: 60 ms RTT everywhere, 2 % loss each way on the reviewer's paths",
    routers: [cone('dev'), cone('reviewer')],
    wan: { reviewerServer: { rttMs: 60, lossPct: 2 }, devServer: { rttMs: 60 }, reviewerDev: { rttMs: 60, lossPct: 2 } },
    expect: ['srflx'],
    p2pRequired: true,
    bulkFloor: true,
    bulkFloorBytes: 2 * 1024 * 1024,
    swFloor: true,
  },
  {
    name: 'far-server-symmetric-nat',
    title: 'far-server, reviewer behind symmetric NAT: TURN next to the server',
    routers: [cone('dev'), { nat: 'symmetric', hosts: ['reviewer'] }],
    wan: FAR_SERVER,
    expect: ['relay-udp'],
    p2pRequired: true,
  },
  {
    name: 'far-server-udp-blocked',
    title: 'far-server, both routers drop UDP',
    routers: [cone('dev', { firewall: 'no-udp' }), cone('reviewer', { firewall: 'no-udp' })],
    wan: FAR_SERVER,
    expect: ['relay-tcp', 'wingman-relay'],
    p2pRequired: false,
  },
];

/**
 * How Wingman is run in a WAN scenario, side by side:
 * p2p: as shipped; p2p-blocked: the same session, but both hosts reach only
 * TCP to the server's HTTPS port (the shell gives up on ICE, the Service
 * Worker relays); relay-only: the agent with `--no-p2p` (no shell, no SW);
 * tls-proxy: no Wingman at all, nginx on the server host forwarding over
 * one TCP hop to the developer's app (what a bare relay gives); direct: no
 * Wingman, the browser reaches nginx on the developer's host over the
 * reviewer↔developer path (the least any P2P transport can take).
 * @type {Array<{ mode: string, title: string, apply: (s: Scenario) => Scenario }>}
 */
export const WAN_MODES = [
  { mode: 'p2p', title: 'Wingman P2P', apply: (s) => ({ ...s, mode: 'p2p' }) },
  {
    mode: 'p2p-blocked',
    title: 'Wingman, P2P blocked',
    apply: (s) => ({ ...s, mode: 'p2p-blocked', blockP2p: true, expect: ['wingman-relay'], p2pRequired: false }),
  },
  {
    mode: 'relay-only',
    title: 'relay-only session (agent --no-p2p)',
    apply: (s) => ({ ...s, mode: 'relay-only', relayOnly: true, agentArgs: ['--no-p2p'], expect: ['wingman-relay'], p2pRequired: false }),
  },
  {
    mode: 'tls-proxy',
    title: 'plain TLS reverse proxy (nginx) on the server host, one TCP hop to the developer',
    apply: (s) => ({ ...s, mode: 'tls-proxy', baseline: 'tls-proxy', relayOnly: true, expect: ['tls-proxy'], p2pRequired: false }),
  },
  {
    mode: 'direct',
    title: "the floor under P2P: nginx on the developer's host, reached straight over the reviewer↔developer path",
    apply: (s) => ({ ...s, mode: 'direct', baseline: 'direct', relayOnly: true, expect: ['direct'], p2pRequired: false }),
  },
];

/** The round trip a request pays on the path the session ended on (a lower bound of any request's time). */
export function pathRttMs(wan, transport) {
  if (transport === 'host' || transport === 'srflx' || transport === 'direct') return wan.reviewerDev.rttMs;
  return wan.reviewerServer.rttMs + wan.devServer.rttMs;
}
