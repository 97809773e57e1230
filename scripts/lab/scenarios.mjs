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
