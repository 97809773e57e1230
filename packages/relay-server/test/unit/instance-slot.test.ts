/**
 * Agent instance slots on a real temporary directory: concurrent agents of
 * one key get different slots, a dead holder's lock (or one naming a recycled
 * pid, or a zombie) is free, and release only removes a lock that is still ours.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireInstanceSlot, MAX_INSTANCE_SLOTS, slotKey } from '../../src/agent/instance-slot';
import { procStat } from '../../src/agent/instance-slot';
import { until, waitForEvent } from '../../../../test/helpers/wait';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-slot-'));
});
let parent: ChildProcess | undefined;
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (parent && parent.exitCode === null) {
    const exited = waitForEvent(parent, 'exit', { timeoutMs: 5_000, what: "the zombie's parent to exit" });
    parent.kill('SIGKILL');
    await exited;
  }
  parent = undefined;
});

/**
 * A real zombie: a child that exits under a parent that never waits for it
 * (`exec sleep` replaces the shell that started it). The child (`head`)
 * exits when it reads the byte we write, once the shell has become `sleep`
 * (a child that exited earlier, the shell would reap). Resolves with its pid
 * and start time once /proc shows it in state Z.
 */
async function zombie(): Promise<{ pid: number; start: string }> {
  // fd 3: the shell gives a background job /dev/null as its standard input.
  parent = spawn('sh', ['-c', 'exec 3<&0; head -c 1 <&3 >/dev/null & echo $!; exec sleep 60 3<&-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await waitForEvent<Buffer>(parent.stdout!, 'data', { timeoutMs: 5_000, what: "the zombie's pid" });
  const pid = Number(line.toString().trim());
  // The byte goes once the shell has become `sleep`: a child that exited before, the shell would reap.
  const parentPid = parent.pid!;
  await until(() => (readFileSync(`/proc/${parentPid}/comm`, 'utf8').trim() === 'sleep' ? true : undefined), {
    timeoutMs: 5_000,
    intervalMs: 10,
    what: `pid ${parentPid} to become sleep`,
  });
  parent.stdin!.write('x');
  // Nothing announces the child's exit to us (its parent does not wait): poll /proc, bounded.
  const stat = await until(
    () => {
      const s = procStat(pid);
      return s?.state === 'Z' ? s : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 10, what: `pid ${pid} in state Z` },
  );
  return { pid, start: stat.start };
}

const lockFile = () => join(dir, 'locks', readdirSync(join(dir, 'locks'))[0]!);

describe('instance slots', () => {
  it('gives a second holder of the same key the next slot, and the first slot again once released', () => {
    const a = acquireInstanceSlot(dir, 'k')!;
    const b = acquireInstanceSlot(dir, 'k')!;
    expect([a.slot, b.slot]).toEqual([0, 1]);
    expect(acquireInstanceSlot(dir, 'other key')!.slot).toBe(0);
    a.release();
    expect(acquireInstanceSlot(dir, 'k')!.slot).toBe(0);
  });

  it('takes over a lock whose holder is gone, or whose pid now names another process (start time differs)', () => {
    const a = acquireInstanceSlot(dir, 'k')!;
    const file = lockFile();
    // A pid above Linux's pid_max (2^22) never names a process.
    writeFileSync(file, JSON.stringify({ pid: 4_194_305 }));
    expect(acquireInstanceSlot(dir, 'k')!.slot).toBe(0);
    writeFileSync(file, JSON.stringify({ pid: process.pid, start: '1' }));
    expect(acquireInstanceSlot(dir, 'k')!.slot).toBe(0);
    a.release();
  });

  it('takes over a lock whose holder is a zombie (killed, not yet reaped by its parent)', async () => {
    const a = acquireInstanceSlot(dir, 'k')!;
    const file = lockFile();
    a.release();
    const z = await zombie();
    writeFileSync(file, JSON.stringify(z));
    expect(acquireInstanceSlot(dir, 'k')!.slot).toBe(0);
  });

  it('does not remove a lock that another holder took since', () => {
    const a = acquireInstanceSlot(dir, 'k')!;
    const file = lockFile();
    writeFileSync(file, JSON.stringify({ pid: 1 }));
    a.release();
    expect(existsSync(file)).toBe(true);
  });

  it('runs out after MAX_INSTANCE_SLOTS holders', () => {
    for (let i = 0; i < MAX_INSTANCE_SLOTS; i++) expect(acquireInstanceSlot(dir, 'k')!.slot).toBe(i);
    expect(acquireInstanceSlot(dir, 'k')).toBeUndefined();
  });

  it('keeps the plain key for slot 0', () => {
    expect(slotKey('k', 0)).toBe('k');
    expect(slotKey('k', 2)).toBe('k #2');
  });
});
