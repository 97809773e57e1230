/**
 * The bench's CPU per request (scripts/bench/lib/proc.mjs, report/table.mjs):
 * /proc read for real for this process and a real child, and the table's
 * "CPU µs per request at c=1" section.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { childPids, cpuNs, createCpuMeter } from '../../scripts/bench/lib/proc.mjs';
import { renderCpuTable, renderP2PTable } from '../../scripts/bench/report/table.mjs';

describe('bench CPU per request', () => {
  it("meters this process's CPU over a window, per request", () => {
    const meter = createCpuMeter([{ name: 'this test', pid: process.pid }]);
    meter.start();
    // 50 ms of this process's own CPU, however long a loaded machine takes to give it (bounded at 30 s).
    const cpuAtStart = process.cpuUsage();
    const giveUpAt = Date.now() + 30_000;
    for (let used = 0; used < 50_000 && Date.now() < giveUpAt;) {
      const d = process.cpuUsage(cpuAtStart);
      used = d.user + d.system;
    }
    const result = meter.stop(10);
    if (!('processes' in result)) throw new Error(`meter failed: ${result.error}`);
    expect(result.requests).toBe(10);
    expect(result.processes).toHaveLength(1);
    expect(result.processes[0]).toMatchObject({ name: 'this test', pid: process.pid });
    // ≥ 50 ms over 10 requests: ≥ 5000 µs each (schedstat and cpuUsage count the same time, up to rounding).
    expect(result.processes[0].usPerRequest).toBeGreaterThan(4_500);
  });

  it('says why instead of throwing: no request, or a process that is gone', () => {
    const none = createCpuMeter([{ name: 'this test', pid: process.pid }]);
    none.start();
    expect(none.stop(0)).toEqual({ error: 'no request completed' });
    // Pid numbers stop well below 2^22 (kernel pid_max limit).
    const gone = createCpuMeter([{ name: 'nobody', pid: 2 ** 22 + 1 }]);
    gone.start();
    expect(gone.stop(5)).toEqual({ error: `process ${2 ** 22 + 1} is gone` });
  });

  it('finds a child process and reads its CPU time', async () => {
    // It says so once it runs: right after 'spawn' a busy machine may not have scheduled it yet (no CPU time at all).
    const child = spawn(process.execPath, ['-e', "process.stdout.write('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await once(child.stdout, 'data');
      expect(childPids(process.pid)).toContain(child.pid);
      expect(cpuNs(Number(child.pid))).toBeGreaterThan(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("prints one line per row: the sum and each process's µs, or the row's error", () => {
    const cpu = (processes: Array<[string, number]>) => ({
      requests: 1000,
      processes: processes.map(([name, usPerRequest], i) => ({ name, pid: 10 + i, usPerRequest })),
    });
    const rows = [
      { label: 'direct', load: { c1: { cpu: cpu([['target app', 41.6]]) } } },
      {
        label: 'wingman relay',
        load: {
          c1: {
            cpu: cpu([
              ['wingman agent', 200.4],
              ['wingman-server', 150],
              ['target app', 45],
            ]),
          },
        },
      },
      { label: 'localtunnel', load: { c1: { cpu: { error: 'process 7 is gone' } } } },
      { label: 'not run', status: 'unavailable' },
    ];
    expect(renderCpuTable(rows).split('\n')).toEqual([
      '| CPU µs per request at c=1 | all processes | each process                                         |',
      '|---------------------------|---------------|------------------------------------------------------|',
      '| direct                    | 42            | target app 42                                        |',
      '| wingman relay             | 395           | wingman agent 200, wingman-server 150, target app 45 |',
      '| localtunnel               | error         | process 7 is gone                                    |',
    ]);
    expect(renderCpuTable([{ label: 'direct', load: {} }])).toBe('');
  });

  it("puts the raw channel's host CPU per ping beside the P2P host that carried the GETs (not the idle spare)", () => {
    const row = {
      id: 'p2pNode',
      label: 'p2p (Node viewer)',
      status: 'ok',
      metrics: {},
      p2p: { rawHostCpuUsPerPing: 121.4 },
      load: {
        c1: {
          cpu: {
            requests: 1000,
            processes: [
              { name: 'wingman agent', pid: 3, usPerRequest: 130 },
              { name: 'P2P host (pid 4)', pid: 4, usPerRequest: 2.2 },
              { name: 'P2P host (pid 5)', pid: 5, usPerRequest: 521.3 },
            ],
          },
        },
      },
    };
    const line = renderP2PTable([row])
      .split('\n')
      .find((l) => l.startsWith('| CPU µs per small exchange'));
    expect(line?.split('|').map((c) => c.trim())).toEqual([
      '',
      'CPU µs per small exchange, far end (raw: host per ping; protocol: P2P host per GET)',
      '121',
      '521',
      '',
    ]);
  });
});
