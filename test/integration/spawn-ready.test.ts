/**
 * The shared process and wait helpers (scripts/lib/spawn-ready.mjs,
 * scripts/lib/wait.mjs) that the quick start, the bench, the lab and the
 * tests use: real child processes, real events.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProcess, spawnReady, stopAll } from '../../scripts/lib/spawn-ready.mjs';
import { expectNoEventWithin, expectUnchangedWithin, until, waitForEvent, withTimeout } from '../../scripts/lib/wait.mjs';

jest.setTimeout(30_000);

/** A Node.js child running `code`. */
const node = (name: string, code: string) => ({ name, command: process.execPath, args: ['-e', code] });

afterEach(async () => {
  await stopAll();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('spawnReady', () => {
  it('resolves with the JSON ready event, after plain log lines, and keeps the earlier events', async () => {
    const { proc, ready } = await spawnReady({
      ...node(
        'fixture',
        `console.log('starting'); console.log(JSON.stringify({ event: 'hello' })); console.log(JSON.stringify({ event: 'ready', port: 1234 })); setInterval(() => {}, 1000);`,
      ),
      ready: 'ready',
    });
    expect(ready).toEqual({ event: 'ready', port: 1234 });
    expect(proc.events.map((e) => e.event)).toEqual(['hello', 'ready']);
  });

  it('resolves with the first line that matches a pattern, on stderr as well as stdout', async () => {
    const { ready } = await spawnReady({
      ...node('fixture', `console.error('listening on 127.0.0.1:4321'); setInterval(() => {}, 1000);`),
      ready: /listening on \S+/,
    });
    expect(ready).toBe('listening on 127.0.0.1:4321');
  });

  it('fails after the timeout with what it awaited and the last stderr lines, and stops the process', async () => {
    const err: Error = await spawnReady({
      ...node('silent', `console.error('pid ' + process.pid); console.error('waiting for the database'); setInterval(() => {}, 1000);`),
      ready: 'ready',
      readyTimeoutMs: 1_500,
    }).catch((e) => e);
    expect(err.message).toMatch(/waiting for a "ready" event from silent/);
    expect(err.message).toContain('waiting for the database');
    const pid = Number(/pid (\d+)/.exec(err.message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it('fails as soon as the process exits before it is ready, with its exit code and stderr', async () => {
    const err: Error = await spawnReady({
      ...node('crasher', `console.error('EADDRINUSE 127.0.0.1:80'); process.exit(3);`),
      ready: 'ready',
      readyTimeoutMs: 20_000,
    }).catch((e) => e);
    expect(err.message).toMatch(/crasher exited \(code 3\) before it reported a "ready" event/);
    expect(err.message).toContain('EADDRINUSE 127.0.0.1:80');
  });
});

describe('spawnProcess', () => {
  it('stop() ends the processes the child started in its group too', async () => {
    const proc = spawnProcess(
      node(
        'parent',
        `const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(JSON.stringify({ event: 'ready', grandchild: c.pid })); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`,
      ),
    );
    const ready = await proc.waitForEvent('ready');
    const grandchild = Number(ready.grandchild);
    expect(alive(grandchild)).toBe(true);
    await proc.stop();
    await until(() => !alive(grandchild), { timeoutMs: 5_000, what: `grandchild ${grandchild} to end` });
    expect(alive(grandchild)).toBe(false);
  });

  it('waitForLine sees stderr lines printed before the wait began', async () => {
    const proc = spawnProcess(node('logger', `console.error('certificate loaded from /tmp/x');`));
    await proc.exited;
    const line = await proc.waitForLine(/certificate loaded/, { stream: 'stderr', timeoutMs: 10_000 });
    expect(line).toBe('certificate loaded from /tmp/x');
    expect(proc.stderr()).toContain('certificate loaded');
  });
});

describe('spawnProcess with stdout to a file', () => {
  it('waits for a line the child writes to the file, and stop() removes the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawn-ready-test-'));
    try {
      const file = join(dir, 'out');
      const proc = spawnProcess({
        ...node(
          'writer',
          `console.log('booting'); setTimeout(() => console.log(JSON.stringify({ event: 'listening', port: 99 })), 200); setInterval(() => {}, 1000);`,
        ),
        stdoutFile: file,
        removeStdoutFile: true,
      });
      expect(await proc.waitForEvent('listening', { timeoutMs: 10_000 })).toEqual({ event: 'listening', port: 99 });
      expect(proc.stdoutLines()).toEqual(['booting', '{"event":"listening","port":99}']);
      await proc.stop();
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wait helpers', () => {
  it('until fails with what it waited for and the last value it saw', async () => {
    let n = 0;
    const err: Error = await until(() => (++n, { count: n, done: false }).done, { timeoutMs: 200, intervalMs: 10, what: 'the counter to be done' }).catch(
      (e) => e,
    );
    expect(err.message).toMatch(/timed out after 200 ms waiting for the counter to be done; last observed: false/);
  });

  it('waitForEvent resolves with the first event that passes the filter and reports the last one that did not', async () => {
    const emitter = new EventEmitter();
    const got = waitForEvent(emitter, 'message', { filter: (m: string) => m === 'b', timeoutMs: 5_000 });
    emitter.emit('message', 'a');
    emitter.emit('message', 'b');
    await expect(got).resolves.toBe('b');
    const missed = waitForEvent(emitter, 'message', { filter: (m: string) => m === 'z', timeoutMs: 100, what: 'message z' });
    emitter.emit('message', 'y');
    await expect(missed).rejects.toThrow(/waiting for message z; last observed: "y"/);
    expect(emitter.listenerCount('message')).toBe(0);
  });

  it('waitForEvent fails at once on a failOn event', async () => {
    const emitter = new EventEmitter();
    const got = waitForEvent(emitter, 'open', { failOn: ['error'], timeoutMs: 5_000, what: 'the socket to open' });
    emitter.emit('error', new Error('ECONNREFUSED'));
    await expect(got).rejects.toThrow(/'error' before the socket to open: "?Error: ECONNREFUSED/);
  });

  it('expectNoEventWithin rejects when the event happens inside the window and resolves when it does not', async () => {
    const emitter = new EventEmitter();
    const quiet = expectNoEventWithin(emitter, 'retry', { windowMs: 100 });
    await expect(quiet).resolves.toBeUndefined();
    const noisy = expectNoEventWithin(emitter, 'retry', { windowMs: 5_000, what: 'retry' });
    emitter.emit('retry', 2);
    await expect(noisy).rejects.toThrow(/unexpected retry within 5000 ms: 2/);
  });

  it('expectUnchangedWithin rejects when the watched state changes inside the window', async () => {
    const seen: string[] = [];
    const watch = expectUnchangedWithin(() => seen.length, { windowMs: 5_000, intervalMs: 5, what: 'requests seen' });
    setImmediate(() => seen.push('/late'));
    await expect(watch).rejects.toThrow(/requests seen changed within 5000 ms: from 0 to 1/);
  });

  it('withTimeout reports what it waited for and the state observed at the timeout', async () => {
    const got: string[] = ['hello'];
    await expect(withTimeout(new Promise(() => undefined), { timeoutMs: 50, what: 'an echo', observe: () => got })).rejects.toThrow(
      /waiting for an echo; last observed: \["hello"\]/,
    );
  });
});
