/**
 * The agent's state directory on a real full filesystem: a tmpfs of 64 KiB
 * mounted in a private mount namespace (`unshare -rm`), filled, then freed.
 * A lock or state write that fails for want of space must leave nothing
 * behind, so once space returns the agent takes its slot (and its saved
 * session, its URL) again. The built modules (dist/) run in that namespace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', 'dist', 'agent');
/** Bound on the whole namespaced run. */
const RUN_TIMEOUT_MS = 30_000;

/** Runs in the namespace, on the tmpfs at argv[2]: what the agent's state code does before, while and after it is full. */
const SCRIPT = `
const fs = require('node:fs');
const path = require('node:path');
const { acquireInstanceSlot } = require(${JSON.stringify(join(DIST, 'instance-slot.js'))});
const { createFileResumeStore } = require(${JSON.stringify(join(DIST, 'resume-store.js'))});
const root = process.argv[2];
const state = path.join(root, 'state');
const errors = [];
const store = createFileResumeStore({ file: path.join(state, 'sessions.json'), key: 'k', onError: (e) => errors.push(e.code) });
// A first run: the slot's lock directory and a saved session exist.
acquireInstanceSlot(state, 'k').release();
store.save({ sessionId: 'abcdefghijklmnopqrstuvwxyz', resumeSecret: 'first' });
// The disk fills up (bounded: 64 KiB in 1 KiB writes).
const filler = path.join(root, 'fill');
const fd = fs.openSync(filler, 'w');
for (let i = 0; i < 1024; i++) {
  try { fs.writeSync(fd, Buffer.alloc(1024)); } catch (e) { if (e.code === 'ENOSPC') break; throw e; }
}
fs.closeSync(fd);
let whileFull;
try { acquireInstanceSlot(state, 'k'); whileFull = 'taken'; } catch (e) { whileFull = e.code; }
store.save({ sessionId: 'abcdefghijklmnopqrstuvwxyz', resumeSecret: 'second' });
// Space returns.
fs.unlinkSync(filler);
const after = acquireInstanceSlot(state, 'k');
const leftovers = [...fs.readdirSync(state), ...fs.readdirSync(path.join(state, 'locks'))].filter((n) => n.endsWith('.tmp'));
console.log(JSON.stringify({ whileFull, errors, slotAfter: after && after.slot, loaded: store.load(), leftovers }));
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-full-disk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('agent state on a full disk', () => {
  it('leaves no empty lock nor temporary file when the disk is full, so the slot and the saved session come back once space returns', () => {
    const script = join(dir, 'run.js');
    writeFileSync(script, SCRIPT);
    const mnt = join(dir, 'mnt');
    const shell = `set -e; mkdir -m 700 "$1"; mount -t tmpfs -o size=64k,mode=700 tmpfs "$1"; mkdir -m 700 "$1/state"; exec "$2" "$3" "$1"`;
    const run = spawnSync('unshare', ['-rm', 'sh', '-c', shell, 'sh', mnt, process.execPath, script], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    if (run.error || run.status !== 0) {
      throw new Error(`the namespaced run failed (needs util-linux unshare and user namespaces): ${run.error?.message ?? ''} ${run.stderr}`);
    }
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      whileFull: string;
      errors: string[];
      slotAfter: number | undefined;
      loaded: { resumeSecret: string } | undefined;
      leftovers: string[];
    };
    expect(out.whileFull).toBe('ENOSPC');
    expect(out.errors).toEqual(['ENOSPC']);
    expect(out.slotAfter).toBe(0);
    expect(out.loaded?.resumeSecret).toBe('first');
    expect(out.leftovers).toEqual([]);
  });
});
