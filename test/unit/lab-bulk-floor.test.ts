/**
 * The lab's bulk floor and CPU figures (scripts/lab: cpu-sample, udp-sockets,
 * bulk-floor/figures, repeats): reading /proc for real for this process and
 * a real UDP socket, and the arithmetic and wording over the figures. The
 * floor itself runs in the WAN lab (far-server, relay-only mode).
 */
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { FLOOR_FIGURES, formatFloor } from '../../scripts/lab/bulk-floor/figures.mjs';
import { cpuFigures, cpuSnapshot, netnsOf, processKind } from '../../scripts/lab/cpu-sample.mjs';
import { medianRows } from '../../scripts/lab/repeats.mjs';
import { parseUdpTable, sampleUdpSockets } from '../../scripts/lab/udp-sockets.mjs';

describe('lab CPU figures', () => {
  it("names Chromium's processes by type, also from the one-string command line they rewrite, and others by script", () => {
    const line = (s: string) => [s];
    expect(processKind(line('/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US'), 'chromium')).toBe(
      'chromium-network',
    );
    expect(processKind(line('wmlab-floor-x --change-stack-guard-on-fork=enable --type=renderer --no-sandbox'), 'chromium')).toBe('chromium-renderer');
    expect(processKind(['/usr/lib/chromium/chromium', '--no-sandbox'], 'chromium')).toBe('chromium-browser');
    expect(processKind(['/usr/bin/node', '/repo/packages/relay-server/dist/p2p/host-process.js'], 'node')).toBe('host-process.js');
    expect(processKind(['/tmp/wmlab-1/delay-line', '--dev', 'wmdelay'], 'delay-line')).toBe('delay-line');
    expect(processKind([], 'kworker')).toBeNull();
  });

  it("measures this process's CPU, its wait for a core, its host's CPU ms and the machine's, between two snapshots", () => {
    const namespaces = { here: netnsOf(process.pid) };
    const before = cpuSnapshot(namespaces);
    // 300 ms of this process's own CPU, however long a loaded machine takes to give it (bounded at 30 s).
    const cpuAtStart = process.cpuUsage();
    const giveUpAt = Date.now() + 30_000;
    let spin = 0;
    for (let used = 0; used < 300_000 && Date.now() < giveUpAt; spin++) {
      const d = process.cpuUsage(cpuAtStart);
      used = d.user + d.system;
    }
    const after = cpuSnapshot(namespaces);
    const f = cpuFigures(before, after, 0);
    expect(spin).toBeGreaterThan(0);
    expect(f).not.toBeNull();
    const me = f!.processes.filter((p) => p.label.startsWith('here '));
    expect(me.length).toBeGreaterThan(0);
    expect(Math.max(...me.map((p) => p.pct))).toBeGreaterThan(0);
    expect(f!.labPct).toBeGreaterThan(0);
    // The 300 ms of CPU, in CPU ms of this host (10 ms clock ticks).
    expect(f!.msByRole.here).toBeGreaterThanOrEqual(200);
    expect(f!.machineBusyPct).toBeGreaterThanOrEqual(0);
    expect(f!.cores).toBeGreaterThanOrEqual(1);
    expect(cpuFigures(after, after)).toBeNull();
  });
});

describe('lab UDP socket figures', () => {
  it('parses /proc/net/udp: local port, receive queue and drops', () => {
    const text = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      ' 1234: 0100007F:E6C2 00000000:0000 07 00000000:0007B000 00:00000000 00000000     0        0 4242 2 0000000000000000 17',
    ].join('\n');
    expect(parseUdpTable(text)).toEqual(new Map([['4242', { port: 0xe6c2, rxQueue: 0x7b000, drops: 17 }]]));
  });

  it("finds a real socket in this namespace's table and reports one that queued", async () => {
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    try {
      const { port } = sock.address();
      const table = [...parseUdpTable(readFileSync('/proc/self/net/udp', 'utf8')).values()];
      expect(table.find((s) => s.port === port)).toEqual({ port, rxQueue: 0, drops: 0 });
      // Datagrams sent while this process's loop is blocked wait in the socket's queue.
      const send = `const s=require('dgram').createSocket('udp4');let n=5;const go=()=>n--?s.send(Buffer.alloc(1000),${port},'127.0.0.1',go):s.close();go()`;
      execFileSync(process.execPath, ['-e', send]);
      const seen = sampleUdpSockets(process.pid, 1_000).stop();
      const mine = seen.find((s) => s.port === port);
      expect(mine?.maxRxQueue).toBeGreaterThanOrEqual(5 * 1000);
      expect(mine?.drops).toBe(0);
    } finally {
      sock.close();
    }
  });
});

describe('lab bulk floor figures', () => {
  const line = (MBps: number, drops: number) => ({ MBps, rcvbufErrors: { reviewer: drops, dev: drops }, cpu: { machineBusyPct: 180, labPct: 90 } });
  const floor = (down: number) => ({
    peers: { '1': { down: line(down, 2), up: line(5, 300) }, '2': { down: line(down + 1, 0), up: line(6, 100) } },
    error: null,
  });

  it('says the floor per peer-connection count for each direction, with the receiving host and the load', () => {
    expect(formatFloor(floor(12), 'down')).toBe(
      'bulk floor (bare data channel, same run) 12 / 13 / — MB/s over 1 / 2 / 4 peer connections ' +
        "(reviewer receive-buffer drops 2 / 0 / —, machine busy 180 / 180 / — % of one core, the lab's processes 90 / 90 / — %)",
    );
    expect(formatFloor(floor(12), 'up')).toContain('5 / 6 / — MB/s over 1 / 2 / 4 peer connections (dev receive-buffer drops 300 / 100 / —');
    expect(formatFloor({ peers: {}, error: 'no answer' }, 'down')).toBe('bulk floor failed: no answer');
    const stalled = { peers: { '1': { down: { MBps: null, error: 'download: 20905984 of 20971520 bytes within 120000 ms', rcvbufErrors: { reviewer: 0 } } } } };
    expect(formatFloor(stalled, 'down')).toMatch(/^bulk floor \(bare data channel, same run\) stalled \/ — \/ — MB\/s/);
    expect(formatFloor(undefined, 'up')).toBe('');
  });

  it('takes the medians of the floor across repeated relay-only runs', () => {
    const run = (down: number) => ({ scenario: 'far-server', mode: 'relay-only', ok: true, bulkFloor: floor(down) });
    const [row] = medianRows([run(10), run(30), run(12)]);
    const samples = row.samples as Record<string, unknown>;
    expect(samples['bulkFloor.peers.1.down.MBps']).toEqual([10, 30, 12]);
    expect((row.bulkFloor as { peers: Record<string, { down: { MBps: number } }> }).peers['1'].down.MBps).toBe(12);
    expect((row.bulkFloor as { peers: Record<string, { down: { MBps: number } }> }).peers['2'].down.MBps).toBe(13);
    expect(FLOOR_FIGURES.map(([path]) => path)).toContain('bulkFloor.peers.4.up.rcvbufErrors.dev');
  });
});
