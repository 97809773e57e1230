/**
 * The bulk floor of a WAN scenario (`bulkFloor` in scenarios.mjs): what a
 * bare data channel between the reviewer's Chromium and the agent's
 * @roamhq/wrtc moves over the scenario's peer path, with no Wingman protocol,
 * Service Worker or page plumbing, over 1, 2 and 4 peer connections (one
 * transfer split evenly over them), 20 MiB down and up, with the hosts' UDP
 * receive-buffer drops and the busiest processes during each transfer.
 * Runs in the relay-only mode's namespaces once its reviewer is done (the
 * agent runs --no-p2p there: nothing else uses the peer path), so the row
 * carries the relay's rates and the floor of the same run.
 *
 *   host.mjs      dev namespace: bare wrtc peer connections (raw-serve.mjs)
 *   browser.mjs   reviewer namespace: Chromium, the transfers, the counters
 *   in-page.mjs   what browser.mjs runs in the page
 *   figures.mjs   the figures repeats.mjs takes medians of and the goal line
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROTOCOL_MODULE } from '../../bench/lib/config.mjs';
import { startInNamespace } from '../proc.mjs';
import { FLOOR_PEER_COUNTS } from './figures.mjs';

const require = createRequire(import.meta.url);
const { DATA_CHANNEL_DEFAULT_MESSAGE_BYTES, DATA_CHANNEL_HIGH_WATER_BYTES } = require(PROTOCOL_MODULE);

const HERE = new URL('.', import.meta.url).pathname;
/** Chromium's start, three sets of peer connections, six 20 MiB transfers at ≥ 1 MB/s. */
const FLOOR_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 15_000;

/**
 * @typedef {object} FloorTransfer
 * @property {number | null} MBps 10^6 bytes/s, the whole transfer; null: it did not complete (`error`)
 * @property {string} [error] why the transfer did not complete (the next count still runs)
 * @property {Record<string, number>} rcvbufErrors per host (server, reviewer, dev): datagrams its kernel dropped on a full socket buffer
 * @property {Record<string, import('../udp-sockets.mjs').UdpSocketFigure[]>} sockets the peers' UDP sockets that queued or dropped
 * @property {import('../cpu-sample.mjs').CpuFigures | null} cpu
 * @typedef {{ receiveBuffers?: Record<string, Record<string, number>>, down?: FloorTransfer, up?: FloorTransfer, error?: string }} FloorLine
 *   receiveBuffers: per peer host, each UDP socket's receive buffer (local port → bytes);
 *   error: the peer connections did not come up
 */

/**
 * @param {{ topology: import('../topology.mjs').Topology, stunUrls: string[], hosts: Record<string, number>, bytes: number, dir: string }} options
 *   hosts: role → the pid of a process in that namespace (its delay line), for its counters
 * @returns {Promise<{ peers: Record<string, FloorLine>, error: string | null }>} peers: by peer-connection count
 */
export async function measureBulkFloor({ topology, stunUrls, hosts, bytes, dir }) {
  const signaling = mkdtempSync(join(dir, 'floor-'));
  const host = startInNamespace({
    name: 'bulk-floor-host',
    ns: topology.ns.dev,
    command: process.execPath,
    args: [join(HERE, 'host.mjs'), signaling, stunUrls.join(',')],
  });
  let browser;
  try {
    await host.waitFor((e) => e.event === 'ready', START_TIMEOUT_MS, 'ready');
    const config = {
      dir: signaling,
      stunUrls,
      peerCounts: FLOOR_PEER_COUNTS,
      bytes,
      messageBytes: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
      highWater: DATA_CHANNEL_HIGH_WATER_BYTES,
      hosts,
    };
    browser = startInNamespace({
      name: 'bulk-floor-browser',
      ns: topology.ns.reviewer,
      command: process.execPath,
      args: [join(HERE, 'browser.mjs'), JSON.stringify(config)],
    });
    const result = await browser.waitFor((e) => e.event === 'result', FLOOR_TIMEOUT_MS, 'the bulk floor');
    const peers = Object.fromEntries(browser.events.filter((e) => e.event === 'floor').map(({ event: _e, peers: n, ...line }) => [String(n), line]));
    return { peers: /** @type {Record<string, FloorLine>} */ (peers), error: typeof result.error === 'string' ? result.error : null };
  } catch (err) {
    return { peers: {}, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await browser?.stop();
    await host.stop();
    rmSync(signaling, { recursive: true, force: true });
  }
}
