/**
 * A namespace's kernel counters from `/proc/<pid>/net/snmp` (the network
 * namespace of that process): the UDP counters that show a socket receive or
 * send buffer overflowing (`RcvbufErrors`, `SndbufErrors`, both also counted
 * in `InErrors`) and TCP's retransmitted segments.
 */
import { readFileSync } from 'node:fs';

/** The counters the lab keeps, per protocol line of the file. */
const KEPT = {
  Udp: ['InDatagrams', 'OutDatagrams', 'NoPorts', 'InErrors', 'RcvbufErrors', 'SndbufErrors'],
  Tcp: ['InSegs', 'OutSegs', 'RetransSegs'],
};

/**
 * @typedef {{ udp: Record<string, number>, tcp: Record<string, number> }} SnmpCounters
 */

/**
 * Parses the file's pairs of lines (`Udp: InDatagrams NoPorts …` then
 * `Udp: 12 0 …`) and keeps the counters in KEPT.
 * @param {string} text
 * @returns {SnmpCounters}
 */
export function parseSnmp(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const tables = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [proto, ...names] = lines[i].trim().split(/\s+/);
    const [proto2, ...values] = lines[i + 1].trim().split(/\s+/);
    if (proto !== proto2 || !proto.endsWith(':') || names.length !== values.length)
      throw new Error(`/proc/net/snmp: lines ${i + 1}-${i + 2} are not a header and its values`);
    tables[proto.slice(0, -1)] = Object.fromEntries(names.map((n, k) => [n, Number(values[k])]));
  }
  const pick = (proto) => {
    const table = tables[proto];
    if (!table) throw new Error(`/proc/net/snmp has no ${proto} line`);
    return Object.fromEntries(
      KEPT[proto].map((name) => {
        if (!Number.isFinite(table[name])) throw new Error(`/proc/net/snmp: ${proto} ${name} missing or not a number`);
        return [name, table[name]];
      }),
    );
  };
  return { udp: pick('Udp'), tcp: pick('Tcp') };
}

/**
 * The counters of the network namespace `pid` lives in.
 * @param {number} pid
 * @returns {SnmpCounters}
 */
export function readSnmp(pid) {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a pid: ${pid}`);
  return parseSnmp(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
}
