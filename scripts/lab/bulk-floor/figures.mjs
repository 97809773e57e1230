/**
 * The bulk floor's figures the lab's repeats take medians of (repeats.mjs)
 * and the goal line prints (report.mjs): per peer-connection count and
 * direction, the rate, the receiving host's socket drops and how busy the
 * machine was.
 */

/** The peer-connection counts measured: the shell makes one; more show what several SCTP associations would carry. */
export const FLOOR_PEER_COUNTS = [1, 2, 4];

/** The host whose socket receives the data of each direction. */
const RECEIVER = { down: 'reviewer', up: 'dev' };

/** [path in the row, digits kept], as repeats.mjs's FIGURES. */
export const FLOOR_FIGURES = FLOOR_PEER_COUNTS.flatMap((n) =>
  ['down', 'up'].flatMap((dir) => [
    [`bulkFloor.peers.${n}.${dir}.MBps`, 1],
    [`bulkFloor.peers.${n}.${dir}.rcvbufErrors.${RECEIVER[dir]}`, 0],
    [`bulkFloor.peers.${n}.${dir}.cpu.machineBusyPct`, 0],
    [`bulkFloor.peers.${n}.${dir}.cpu.labPct`, 0],
  ]),
);

/** ", 2 MiB each way" for a floor measured with a size of its own; nothing when unknown. */
const sizeText = (bytes) => (typeof bytes === 'number' && bytes > 0 ? `, ${+(bytes / 1048576).toFixed(1)} MiB each way` : '');

/**
 * One direction of the floor as the goal line says it, e.g.
 * "bulk floor (bare data channel, same run) 12.5 / 13.7 / 14.6 MB/s over 1 / 2 / 4 peer connections
 * (reviewer receive-buffer drops 226 / 0 / 0, machine busy 180 / 190 / 170 % of one core, the lab's
 * processes 90 / 95 / 80 %)".
 * @param {Record<string, any> | undefined} floor the relay-only row's bulkFloor
 * @param {'down' | 'up'} dir
 */
export function formatFloor(floor, dir) {
  const lines = FLOOR_PEER_COUNTS.map((n) => floor?.peers?.[String(n)]?.[dir]);
  if (lines.every((l) => l === undefined)) return floor?.error ? `bulk floor failed: ${floor.error}` : '';
  const each = (f) => lines.map((l) => f(l) ?? '—').join(' / ');
  return (
    `bulk floor (bare data channel, same run${sizeText(floor?.bytes)}) ${each((l) => l?.MBps ?? (l?.error ? 'stalled' : undefined))} MB/s over ${FLOOR_PEER_COUNTS.join(' / ')} peer connections ` +
    `(${RECEIVER[dir]} receive-buffer drops ${each((l) => l?.rcvbufErrors?.[RECEIVER[dir]])}, machine busy ${each((l) => l?.cpu?.machineBusyPct)} % of one core, the lab's processes ${each((l) => l?.cpu?.labPct)} %)`
  );
}
