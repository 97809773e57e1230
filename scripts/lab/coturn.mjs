/**
 * coturn (`turnserver`) as the lab's STUN/TURN server, in the public
 * namespace, configured like a production deployment of Wingman would be:
 * TURN REST API credentials (`use-auth-secret` + the tunnel server's
 * TURN_SECRET), UDP and TCP on 3478, no TLS, no CLI, no web admin.
 * @see https://github.com/coturn/coturn/blob/master/examples/etc/turnserver.conf
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startInNamespace } from './proc.mjs';
import { TURN_PORT } from './topology.mjs';

/** Relay ports: a handful per scenario (two peers, a few allocations each). */
const RELAY_MIN_PORT = 49_160;
const RELAY_MAX_PORT = 49_260;
/** coturn logs its listeners within a second; 10 s covers a loaded CI machine. */
const START_TIMEOUT_MS = 10_000;

/**
 * @typedef {object} Coturn
 * @property {string} secret the shared secret (the tunnel server's TURN_SECRET)
 * @property {string[]} stunUrls
 * @property {string[]} turnUrls
 * @property {import('./proc.mjs').LabProcess} process
 */

/**
 * Writes the config and starts turnserver; resolves once it listens.
 * @param {{ ns: string, ip: string, dir: string, labRange: [string, string], peerRanges: Array<[string, string]> }} options
 *   labRange: the whole lab block, denied as peer addresses; peerRanges: the parts the
 *   public namespace reaches (its "internet"), allowed.
 * @returns {Promise<Coturn>}
 */
export async function startCoturn({ ns, ip, dir, labRange, peerRanges }) {
  const secret = randomBytes(24).toString('hex');
  const config = [
    `listening-ip=${ip}`,
    `relay-ip=${ip}`,
    `listening-port=${TURN_PORT}`,
    `min-port=${RELAY_MIN_PORT}`,
    `max-port=${RELAY_MAX_PORT}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=wingman.lab',
    'fingerprint',
    'no-cli',
    'no-tls',
    'no-dtls',
    'no-multicast-peers',
    // As coturn's docs advise for production (deny private ranges), peers behind a NAT are refused
    // (CreatePermission → 403) and only what the public side reaches is allowed (allowed wins over denied).
    // Without this, a permission for a candidate behind a NAT made coturn send to an address the
    // public namespace has no route to; sendto() failed with ENETUNREACH and coturn closed the whole
    // allocation ("udp send: Network is unreachable", "closed … reason: general") — the data channel
    // over TURN-TCP died ~1 s after it opened. On the internet such a packet is just lost.
    `denied-peer-ip=${labRange[0]}-${labRange[1]}`,
    ...peerRanges.map(([from, to]) => `allowed-peer-ip=${from}-${to}`),
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    // Needed for the "listener opened" lines we wait for; also logs each allocation (useful in a tail).
    'verbose',
    'no-software-attribute',
  ].join('\n');
  const path = join(dir, 'turnserver.conf');
  writeFileSync(path, `${config}\n`);
  const proc = startInNamespace({ name: 'coturn', ns, command: 'turnserver', args: ['-c', path] });
  // One line per listener (with `verbose`), in no fixed order.
  await Promise.all([
    proc.waitForLine((l) => l.includes(`UDP listener opened on: ${ip}:${TURN_PORT}`), START_TIMEOUT_MS, 'its UDP listener'),
    proc.waitForLine((l) => l.includes(`TCP listener opened on : ${ip}:${TURN_PORT}`), START_TIMEOUT_MS, 'its TCP listener'),
  ]);
  return {
    secret,
    stunUrls: [`stun:${ip}:${TURN_PORT}`],
    turnUrls: [`turn:${ip}:${TURN_PORT}?transport=udp`, `turn:${ip}:${TURN_PORT}?transport=tcp`],
    process: proc,
  };
}
