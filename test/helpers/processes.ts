/**
 * Real processes for system tests: the tunnel server and agent bins as built
 * by `npm run build`, each a child process on loopback, killed in afterEach.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProcess, type ManagedProcess } from '../../scripts/lib/spawn-ready.mjs';

export const ROOT = join(__dirname, '..', '..');
export const SERVER_BIN = join(ROOT, 'packages/tunnel-server/dist/bin/wingman-server.js');
export const AGENT_BIN = join(ROOT, 'packages/relay-server/dist/bin/wingman.js');

/** A process from scripts/lib/spawn-ready.mjs, plus what system tests read from it. */
export interface Proc extends ManagedProcess {
  /** Resident memory of the process itself, from /proc; 0 once it has exited. */
  rssBytes(): number;
  /** stop() with a signal: `signal` (default SIGTERM), SIGKILL after 5 s. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const live = new Set<Proc>();
/** The set `spawnedBy` collects into, in the asynchronous context of its `run`. */
const collecting = new AsyncLocalStorage<Set<Proc>>();

/**
 * Runs `run`, adding every process it starts (through any helper here, at any time until it settles) to `into`: a
 * file that runs a long test beside its other tests keeps that test's processes out of their `killAll` with it.
 */
export function spawnedBy<T>(into: Set<Proc>, run: () => Promise<T>): Promise<T> {
  return collecting.run(into, run);
}

/**
 * Agents started here are `--public` (WINGMAN_PUBLIC=1) unless the test says
 * otherwise (`WINGMAN_PUBLIC: '0'`): most tests open a session by its host
 * name and are about something else; the link access tests (link-access.test.ts,
 * the browser client's link-access e2e) start theirs with the default.
 */
export const PUBLIC_AGENT_ENV = { WINGMAN_PUBLIC: '1' } as const;
/** The env that keeps an agent's default: only the full link opens its session. */
export const LINK_ONLY_AGENT_ENV = { WINGMAN_PUBLIC: '0' } as const;

export function startProcess(bin: string, args: string[], env: Record<string, string> = {}): Proc {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  return track(bin, process.execPath, [bin, ...args], bin === AGENT_BIN ? { ...PUBLIC_AGENT_ENV, ...env } : env);
}

/** startProcess inside the network namespace `netns` (`ip netns exec`, which execs: the pid is the bin's own; root only). */
export function startProcessIn(netns: string, bin: string, args: string[], env: Record<string, string> = {}): Proc {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` first`);
  return track(`${bin} in ${netns}`, 'ip', ['netns', 'exec', netns, process.execPath, bin, ...args], bin === AGENT_BIN ? { ...PUBLIC_AGENT_ENV, ...env } : env);
}

/** Like startProcess, for an executable run as a command (an installed bin: its shebang picks node). */
export function startCommand(command: string, args: string[], env: Record<string, string> = {}): Proc {
  return track(command, command, args, env);
}

function track(name: string, command: string, args: string[], env: Record<string, string>): Proc {
  // Stays in jest's process group: scripts/run-tests.mjs stops a hung run by
  // signalling that group, which must reach the bins the tests started.
  const managed = spawnProcess({ name, command, args, env: { ...process.env, ...env }, ownProcessGroup: false });
  const proc: Proc = Object.assign(managed, {
    rssBytes() {
      // 0 once the process is gone: samplers on a timer outlive a test that timed out, and must not throw then.
      let status: string;
      try {
        status = readFileSync(`/proc/${managed.child.pid}/status`, 'utf8');
      } catch {
        return 0;
      }
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      live.delete(proc);
      await managed.stop({ signal });
    },
  });
  live.add(proc);
  collecting.getStore()?.add(proc);
  return proc;
}

/** Samples both processes' RSS every 100 ms; `stop()` returns the peak growth over the first sample, MB (10^6 bytes). */
export function sampleRss(procs: { server: Proc; agent: Proc }): { stop(): { server: number; agent: number } } {
  const before = { server: procs.server.rssBytes(), agent: procs.agent.rssBytes() };
  const peak = { ...before };
  const take = () => {
    peak.server = Math.max(peak.server, procs.server.rssBytes());
    peak.agent = Math.max(peak.agent, procs.agent.rssBytes());
  };
  const timer = setInterval(() => {
    // A test that failed before stop() leaves the sampler running past afterEach's kill: it stops once a process is gone.
    if (procs.server.rssBytes() === 0 || procs.agent.rssBytes() === 0) return clearInterval(timer);
    take();
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { server: (peak.server - before.server) / 1e6, agent: (peak.agent - before.agent) / 1e6 };
    },
  };
}

/** Kills every process started here but those in `keep` (a file's own, started once in beforeAll and killed in afterAll). */
export async function killAll(keep: readonly Proc[] = []): Promise<void> {
  await Promise.all([...live].filter((p) => !keep.includes(p)).map((p) => p.kill()));
}

export interface Tunnel {
  server: Proc;
  agent: Proc;
  serverPort: number;
  /** Session URL as printed by the agent. */
  url: string;
  /** The link to share: `url` with the link key in its fragment. */
  link: string;
  sessionId: string;
  /** Host header value for the session. */
  host: string;
}

/** Starts `wingman-server --port 0 --json` and waits for it to listen. */
export async function startServer(env: Record<string, string> = {}, args: string[] = []): Promise<{ server: Proc; port: number; url: string }> {
  // The session key per test run, not in the user's home (a restart test reuses it).
  const stateDir = join(tmpdir(), `wingman-test-server-state-${process.pid}`);
  const server = startProcess(SERVER_BIN, ['--port', '0', '--json', ...args], { LOG_LEVEL: 'warn', WINGMAN_SERVER_STATE_DIR: stateDir, ...env });
  const ev = await server.waitForEvent('listening');
  return { server, port: Number(ev.port), url: String(ev.url) };
}

/** How long startAgent waits for the agent's ready event unless told otherwise, ms (spawn-ready.mjs's default wait). */
export const AGENT_READY_TIMEOUT_MS = 15_000;

/** Starts `wingman http <target> --server <url> --json` and waits for ready (`readyTimeoutMs`). */
export async function startAgent(
  serverUrl: string,
  target: string,
  env: Record<string, string> = {},
  args: string[] = [],
  { readyTimeoutMs = AGENT_READY_TIMEOUT_MS }: { readyTimeoutMs?: number } = {},
): Promise<{ agent: Proc; url: string; link: string; sessionId: string }> {
  // Resume state per test run, not in the user's home (a restart test reuses it).
  const stateDir = join(tmpdir(), `wingman-test-state-${process.pid}`);
  const agent = startProcess(AGENT_BIN, ['http', target, '--server', serverUrl, '--json', ...args], { WINGMAN_STATE_DIR: stateDir, ...env });
  const ev = await agent.waitForEvent('ready', { timeoutMs: readyTimeoutMs });
  return { agent, url: String(ev.url), link: String(ev.link), sessionId: String(ev.sessionId) };
}

export async function startTunnel(
  target: string,
  opts: { serverEnv?: Record<string, string>; agentEnv?: Record<string, string>; agentArgs?: string[] } = {},
): Promise<Tunnel> {
  const { server, port, url: serverUrl } = await startServer(opts.serverEnv);
  const { agent, url, link, sessionId } = await startAgent(serverUrl, target, opts.agentEnv, opts.agentArgs);
  return { server, agent, serverPort: port, url, link, sessionId, host: new URL(url).host };
}

/**
 * Runs `wingman fetch <args>` (with `env` added to this process's; in network namespace `netns` when given) to completion
 * (killed after 30 s): exit code, stdout (the body, as text and bytes) and stderr (which path served it).
 */
export function runWingmanFetch(
  args: string[],
  env: Record<string, string> = {},
  netns?: string,
): Promise<{ code: number; out: string; body: Buffer; err: string }> {
  return new Promise((resolve) => {
    const line = [process.execPath, AGENT_BIN, 'fetch', ...args];
    const [command, ...rest] = netns ? ['ip', 'netns', 'exec', netns, ...line] : line;
    const child = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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

/**
 * The agent's P2P host processes: its children already running `host-process.js`. A child between
 * fork() and exec() still runs the agent's image, and the agent's libuv waits for that exec
 * synchronously: stopping such a child (SIGSTOP) would stop the agent's event loop with it. On a
 * busy machine a new child can wait tens of ms to be scheduled into its exec.
 */
export function hostProcessPids(agentPid: number): number[] {
  return childPids(agentPid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('host-process.js');
    } catch {
      return false; // ended while we looked
    }
  });
}

/** The pid of the agent's P2P host process serving `viewerId` (one per viewer), from its `peer` event; checked to be the agent's child. */
export async function p2pHostOf(agent: Proc, viewerId: string | undefined): Promise<number> {
  if (viewerId === undefined) throw new Error('no viewer id: the page has no P2P channel');
  const connected = await agent.waitFor(
    (e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewerId,
    undefined,
    `viewer ${viewerId} connected over P2P`,
  );
  const pid = connected.hostPid;
  if (typeof pid !== 'number' || !childPids(agent.child.pid!).includes(pid))
    throw new Error(`the peer event of ${viewerId} names no live host process of the agent: ${JSON.stringify(connected)}`);
  return pid;
}

/**
 * What says one of the agent's P2P host processes ended: its viewer's peer
 * closed with "P2P host ended (…)" (a JSON event), and WARN_P2P_HOST_CRASHED
 * on stderr. Empty while every host lived.
 */
export function p2pHostEndings(agent: Proc): string[] {
  const closed = agent.events
    .filter((e) => e.event === 'peer' && /P2P host ended/.test(String(e.reason)))
    .map((e) => `peer ${String(e.viewerId)} closed: ${String(e.reason)}`);
  const stderr = agent
    .stderr()
    .split('\n')
    .filter((line) => line.includes('WARN_P2P_HOST_CRASHED'));
  return [...closed, ...stderr];
}
