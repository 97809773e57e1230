/**
 * Real processes for system tests: the tunnel server and agent bins as built
 * by `npm run build`, each a child process on loopback, killed in afterEach.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = join(__dirname, '..', '..');
export const SERVER_BIN = join(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
export const AGENT_BIN = join(ROOT, 'packages/relay-server/dist/bin/wingman.js');

export interface Proc {
  child: ChildProcess;
  /** JSON lines printed so far. */
  events: Array<Record<string, unknown>>;
  /** Resolves with the first JSON line matching `pred` (rejects after timeoutMs). */
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
  rssBytes(): number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<Proc>();

export function startProcess(bin: string, args: string[], env: Record<string, string> = {}): Proc {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  return track(bin, spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Like startProcess, for an executable run as a command (an installed bin: its shebang picks node). */
export function startCommand(command: string, args: string[], env: Record<string, string> = {}): Proc {
  return track(command, spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function track(bin: string, child: ChildProcess): Proc {
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }> = [];
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d.toString()).slice(-20_000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const proc: Proc = {
    child,
    events,
    waitFor(pred, timeoutMs = 15_000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for an event from ${bin}; stderr:\n${err}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
        child.once('exit', (code) => reject(new Error(`${bin} exited (${code}) before the event; stderr:\n${err}`)));
      });
    },
    stderr: () => err,
    rssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
    async kill(signal = 'SIGTERM') {
      live.delete(proc);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  live.add(proc);
  return proc;
}

export async function killAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill()));
}

export interface Tunnel {
  server: Proc;
  agent: Proc;
  serverPort: number;
  /** Session URL as printed by the agent. */
  url: string;
  sessionId: string;
  /** Host header value for the session. */
  host: string;
}

/** Starts `wingman-server --port 0 --json` and waits for it to listen. */
export async function startServer(env: Record<string, string> = {}, args: string[] = []): Promise<{ server: Proc; port: number; url: string }> {
  // The session key per test run, not in the user's home (a restart test reuses it).
  const stateDir = join(tmpdir(), `wingman-test-server-state-${process.pid}`);
  const server = startProcess(SERVER_BIN, ['--port', '0', '--json', ...args], { LOG_LEVEL: 'warn', WINGMAN_SERVER_STATE_DIR: stateDir, ...env });
  const ev = await server.waitFor((e) => e.event === 'listening');
  return { server, port: Number(ev.port), url: String(ev.url) };
}

/** Starts `wingman http <target> --server <url> --json` and waits for ready. */
export async function startAgent(serverUrl: string, target: string, env: Record<string, string> = {}, args: string[] = []): Promise<{ agent: Proc; url: string; sessionId: string }> {
  // Resume state per test run, not in the user's home (a restart test reuses it).
  const stateDir = join(tmpdir(), `wingman-test-state-${process.pid}`);
  const agent = startProcess(AGENT_BIN, ['http', target, '--server', serverUrl, '--json', ...args], { WINGMAN_STATE_DIR: stateDir, ...env });
  const ev = await agent.waitFor((e) => e.event === 'ready');
  return { agent, url: String(ev.url), sessionId: String(ev.sessionId) };
}

export async function startTunnel(target: string, opts: { serverEnv?: Record<string, string>; agentEnv?: Record<string, string>; agentArgs?: string[] } = {}): Promise<Tunnel> {
  const { server, port, url: serverUrl } = await startServer(opts.serverEnv);
  const { agent, url, sessionId } = await startAgent(serverUrl, target, opts.agentEnv, opts.agentArgs);
  return { server, agent, serverPort: port, url, sessionId, host: new URL(url).host };
}

/** Runs `wingman fetch <args>` to completion (killed after 30 s): exit code, stdout (the body, as text and bytes) and stderr (which path served it). */
export function runWingmanFetch(args: string[]): Promise<{ code: number; out: string; body: Buffer; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [AGENT_BIN, 'fetch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d: Buffer) => chunks.push(d));
    child.stderr!.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks);
      resolve({ code: code ?? 1, out: body.toString('utf8'), body, err });
    });
  });
}

/** Pids whose parent is `pid` (from /proc, no `ps` needed), e.g. the agent's P2P host process. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the name in parentheses may hold spaces.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}
