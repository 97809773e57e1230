/**
 * The agent's state files on a real temporary directory: no write follows a
 * symlink planted where a temporary file or a lock goes, and a state
 * directory other users may write to is refused (the agent then keeps its
 * session in memory, with a warning).
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireInstanceSlot } from '../../src/agent/instance-slot';
import { createFileResumeStore } from '../../src/agent/resume-store';
import { createFileExclusive } from '../../src/agent/state-files';

let dir: string;
let victim: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-state-'));
  victim = join(dir, 'victim');
  writeFileSync(victim, 'untouched');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const session = { sessionId: 'abcdefghijklmnopqrstuvwxyz', resumeSecret: 'secret' };

describe('agent state files', () => {
  it('does not write through a symlink planted at the temporary name a state write once used', () => {
    const state = join(dir, 'state');
    mkdirSync(state, { mode: 0o700 });
    const file = join(state, 'sessions.json');
    symlinkSync(victim, `${file}.${process.pid}.tmp`);
    const errors: string[] = [];
    const store = createFileResumeStore({ file, key: 'k', onError: (e) => errors.push(e.message) });
    store.save(session);
    expect(errors).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(store.load()).toEqual(session);
    // Every temporary file is gone; only the planted link stays.
    expect(readdirSync(state).sort()).toEqual(['sessions.json', `sessions.json.${process.pid}.tmp`]);
  });

  it('does not take, nor write through, a lock name that is a planted symlink', () => {
    const lock = join(dir, 'lock');
    symlinkSync(victim, lock);
    expect(createFileExclusive(lock, '{"pid":1}')).toBe(false);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });

  it('refuses a state directory that other users may write to, naming it', () => {
    const state = join(dir, 'shared');
    mkdirSync(state);
    chmodSync(state, 0o777);
    const errors: string[] = [];
    createFileResumeStore({ file: join(state, 'sessions.json'), key: 'k', onError: (e) => errors.push(e.message) }).save(session);
    expect(errors).toEqual([`the state directory ${state} is writable by other users (mode 777): not keeping sessions there; chmod 700 it`]);
    expect(readdirSync(state)).toEqual([]);
    expect(() => acquireInstanceSlot(state, 'k')).toThrow(/writable by other users/);
  });
});
