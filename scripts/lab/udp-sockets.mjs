/**
 * The UDP sockets of a namespace from `/proc/<pid>/net/udp` (the namespace
 * of that process), sampled while something runs: per socket, the most bytes
 * seen waiting in its receive queue and the datagrams it dropped meanwhile
 * (its `drops` column: a full receive buffer). A queue near the socket's
 * buffer size with drops says the reading thread fell behind.
 */
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ port: number, rxQueue: number, drops: number }} UdpSocket
 * @typedef {{ port: number, maxRxQueue: number, drops: number }} UdpSocketFigure
 */

/**
 * @param {string} text /proc/net/udp
 * @returns {Map<string, UdpSocket>} by inode
 */
export function parseUdpTable(text) {
  const out = new Map();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 13) continue;
    const [, rx] = f[4].split(':');
    out.set(f[9], { port: parseInt(f[1].split(':')[1], 16), rxQueue: parseInt(rx, 16), drops: Number(f[12]) });
  }
  return out;
}

/**
 * Samples the UDP table of `pid`'s namespace every `everyMs` until stop():
 * the sockets whose queue was ever non-empty or that dropped, by local port.
 * @param {number} pid
 * @param {number} everyMs
 * @returns {{ stop(): UdpSocketFigure[] }}
 */
export function sampleUdpSockets(pid, everyMs) {
  const read = () => parseUdpTable(readFileSync(`/proc/${pid}/net/udp`, 'utf8'));
  const first = read();
  /** @type {Map<string, { port: number, maxRxQueue: number, drops: number, firstDrops: number }>} */
  const seen = new Map();
  const take = (table) => {
    for (const [inode, s] of table) {
      const cur = seen.get(inode) ?? { port: s.port, maxRxQueue: 0, drops: 0, firstDrops: first.get(inode)?.drops ?? 0 };
      cur.maxRxQueue = Math.max(cur.maxRxQueue, s.rxQueue);
      cur.drops = s.drops - cur.firstDrops;
      seen.set(inode, cur);
    }
  };
  take(first);
  const timer = setInterval(() => {
    try {
      take(read());
    } catch {
      // the namespace went: keep what was seen
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        take(read());
      } catch {
        // as above
      }
      return [...seen.values()].filter((s) => s.maxRxQueue > 0 || s.drops > 0).map(({ port, maxRxQueue, drops }) => ({ port, maxRxQueue, drops }));
    },
  };
}
