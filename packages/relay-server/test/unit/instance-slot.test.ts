/**
 * Agent instance slots on a real temporary directory: concurrent agents of
 * one key get different slots, a dead holder's lock (or one naming a recycled
 * pid) is free, and release only removes a lock that is still ours.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireInstanceSlot, MAX_INSTANCE_SLOTS, slotKey } from '../../src/agent/instance-slot';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-slot-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

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
