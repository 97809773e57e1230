/**
 * The Node viewer's child process (test/helpers/p2p-viewer-process.ts): a
 * child that dies of a signal, whether another process kills it or it kills
 * itself, fails the calls pending on it with that signal, its pid and its
 * last stderr lines, and every later call the same way; jest goes on. The
 * viewer's own errors come back as they are. A signaling endpoint on
 * loopback that takes the socket and never says hello keeps a connect
 * pending.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { closeViewerProcesses, startViewerProcess, ViewerProcessExit, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { waitForEvent } from '../helpers/wait';

jest.setTimeout(60_000);

let silent: WebSocketServer;
let url: string;

beforeAll(async () => {
  // Signaling that accepts the socket and says nothing: the viewer's connect stays pending.
  silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await waitForEvent(silent, 'listening', { what: 'the silent signaling server to listen' });
  url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
});

afterEach(async () => {
  await closeViewerProcesses();
});

afterAll(async () => {
  for (const ws of silent.clients) ws.terminate();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** A viewer process whose connect is pending: its signaling socket is open at the silent server. */
async function pendingConnect(): Promise<{ v: ViewerProcess; connecting: Promise<unknown> }> {
  const v = startViewerProcess();
  const opened = waitForEvent(silent, 'connection', { timeoutMs: 15_000, what: "the viewer process's signaling socket" });
  const connecting = v.connect({ url, timeoutMs: 30_000 });
  connecting.catch(() => undefined); // awaited by the test
  await opened;
  return { v, connecting };
}

describe('the viewer child process', () => {
  it('rejects a pending call with the signal when the child is killed by its pid, and every later call too', async () => {
    const { v, connecting } = await pendingConnect();
    process.kill(v.pid, 'SIGSEGV');
    const err = await connecting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ViewerProcessExit);
    expect((err as ViewerProcessExit).message).toMatch(new RegExp(`^the viewer process \\(pid ${v.pid}\\) died of SIGSEGV`));
    expect(v.exited).toMatchObject({ signal: 'SIGSEGV', exitCode: null, pid: v.pid });
    await expect(v.state()).rejects.toThrow(/died of SIGSEGV/);
    // Gone before close(): nothing to close, nothing thrown again.
    await expect(v.close()).resolves.toBeUndefined();
  });

  it('fails every pending call when the child kills itself, naming the signal and its last stderr lines', async () => {
    const { v, connecting } = await pendingConnect();
    const crashed = v.crash('SIGSEGV', 'the last words before the crash');
    await expect(crashed).rejects.toThrow(/died of SIGSEGV; its last stderr lines:\n(.*\n)*the last words before the crash/);
    await expect(connecting).rejects.toThrow(/died of SIGSEGV/);
    // Jest lives on: the next child answers.
    const next = startViewerProcess();
    await expect(next.state()).rejects.toThrow(/the viewer is not connected/);
  });

  it("passes the viewer's own error back, and close() ends the child", async () => {
    const v = startViewerProcess();
    // Signaling that refuses the upgrade with 403.
    const refused = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => cb(false, 403) });
    await waitForEvent(refused, 'listening', { what: 'the refusing signaling server to listen' });
    try {
      await expect(v.connect({ url: `http://127.0.0.1:${(refused.address() as AddressInfo).port}/`, timeoutMs: 10_000 })).rejects.toThrow(
        /signaling refused: HTTP 403/,
      );
    } finally {
      await new Promise<void>((resolve) => refused.close(() => resolve()));
    }
    expect(v.exited).toBeUndefined();
    await v.close();
    expect(v.exited?.message).toMatch(/was closed by the test \(died of SIGKILL\)/);
    expect(() => process.kill(v.pid, 0)).toThrow();
  });
});
