/**
 * Thin, synchronous wrappers around `ip` and `iptables` for the lab, and the
 * clean-up that removes every namespace a lab run created. Synchronous on
 * purpose: clean-up must also work from a signal or `exit` handler, where
 * nothing asynchronous runs to completion.
 *
 * Every namespace of one run is named `<prefix><scenario>-<role>` with
 * prefix `wmlab-<pid>-`, so a run finds its own leftovers, and a later run
 * finds those of a run that was killed too hard to clean up (its pid is gone).
 * Veth pairs are created directly inside their namespaces (`ip link add …
 * netns A type veth peer … netns B`): no lab interface ever exists in the
 * caller's namespace, not even for a moment.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

/** Prefix of every lab namespace name; the run's pid follows. */
export const NETNS_PREFIX_ROOT = 'wmlab-';
/** One `ip`/`iptables` call answers in milliseconds; 10 s only guards against a wedged kernel. */
const COMMAND_TIMEOUT_MS = 10_000;
/** Time processes get after SIGTERM before SIGKILL when a namespace is torn down. */
const TERM_GRACE_MS = 3_000;
/** How often we look whether the processes of a namespace are gone. */
const POLL_MS = 50;
/** Where `ip netns add` keeps its bind mounts (iproute2's NETNS_RUN_DIR). */
const NETNS_RUN_DIR = '/run/netns';

export class LabCommandError extends Error {
  name = 'LabCommandError';
}

/** This run's prefix: `wmlab-<pid>-`. */
export function runPrefix(pid = process.pid) {
  return `${NETNS_PREFIX_ROOT}${pid}-`;
}

/**
 * Runs a command synchronously; throws LabCommandError with its stderr on failure.
 * @param {string} file
 * @param {string[]} args
 * @param {{ allowFail?: boolean }} [options]
 * @returns {string} stdout
 */
export function run(file, args, { allowFail = false } = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  if (r.status !== 0 && !allowFail) {
    const why = (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim();
    throw new LabCommandError(`${file} ${args.join(' ')}: ${why}`);
  }
  return r.stdout ?? '';
}

/** `ip <args>` */
export function ip(...args) {
  return run('ip', args);
}

/** `ip netns exec <ns> <cmd…>` */
export function inNs(ns, file, ...args) {
  return run('ip', ['netns', 'exec', ns, file, ...args]);
}

/** `iptables` inside a namespace (-w: wait for the xtables lock instead of failing). */
export function iptables(ns, ...args) {
  return inNs(ns, 'iptables', '-w', '5', ...args);
}

/** `sysctl -w key=value` inside a namespace. */
export function sysctl(ns, key, value) {
  inNs(ns, 'sysctl', '-q', '-w', `${key}=${value}`);
}

/** Creates a namespace with `lo` up. */
export function addNamespace(ns) {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
}

/**
 * A veth pair whose ends are created directly in their namespaces.
 * @param {{ ns: string, name: string }} a
 * @param {{ ns: string, name: string }} b
 */
export function addVeth(a, b) {
  ip('link', 'add', 'name', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns);
}

/** A bridge (a switch) inside a namespace, up. */
export function addBridge(ns, name) {
  ip('-n', ns, 'link', 'add', 'name', name, 'type', 'bridge');
  ip('-n', ns, 'link', 'set', name, 'up');
}

/** Enslaves an interface to a bridge of the same namespace and brings it up. */
export function attachToBridge(ns, dev, bridge) {
  ip('-n', ns, 'link', 'set', dev, 'master', bridge);
  ip('-n', ns, 'link', 'set', dev, 'up');
}

/** Adds an address (CIDR) to an interface and brings it up. */
export function addAddress(ns, dev, cidr) {
  ip('-n', ns, 'addr', 'add', cidr, 'dev', dev);
  ip('-n', ns, 'link', 'set', dev, 'up');
}

/** A route to a lab prefix through a lab gateway (never a default route). */
export function addRoute(ns, prefix, via) {
  if (prefix === 'default' || prefix.endsWith('/0')) throw new LabCommandError(`the lab never adds a default route (${ns})`);
  ip('-n', ns, 'route', 'add', prefix, 'via', via);
}

/**
 * A host's default route through its lab router. Only hosts get one, and
 * only via a lab router, which itself has no default route and rejects
 * every destination outside the lab: traffic to anywhere else dies there.
 */
export function addDefaultRouteInsideLab(ns, labRouter) {
  if (!labRouter.startsWith('10.231.')) throw new LabCommandError(`${labRouter} is not a lab address`);
  ip('-n', ns, 'route', 'add', 'default', 'via', labRouter);
}

/** Names of the existing namespaces that start with `prefix`. */
export function listNamespaces(prefix) {
  if (!existsSync(NETNS_RUN_DIR)) return [];
  return readdirSync(NETNS_RUN_DIR).filter((n) => n.startsWith(prefix));
}

/** Pids of the processes whose network namespace is `ns`. */
export function namespacePids(ns) {
  const out = run('ip', ['netns', 'pids', ns], { allowFail: true });
  return out
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Ends every process inside the given namespaces (SIGTERM, then SIGKILL after
 * TERM_GRACE_MS) and deletes the namespaces; their veth pairs, bridges and
 * iptables rules go with them. Only lab namespaces are ever passed here, and
 * the processes in them are the ones the lab started.
 * @param {string[]} namespaces
 * @returns {string[]} problems (empty when everything is gone)
 */
export function destroyNamespaces(namespaces) {
  const problems = [];
  const pidsOf = () => namespaces.flatMap((ns) => namespacePids(ns));
  let pids = pidsOf();
  if (pids.length > 0) {
    signalAll(pids, 'SIGTERM');
    const deadline = Date.now() + TERM_GRACE_MS;
    while ((pids = pidsOf()).length > 0 && Date.now() < deadline) sleepSync(POLL_MS);
    if (pids.length > 0) {
      signalAll(pids, 'SIGKILL');
      const killDeadline = Date.now() + TERM_GRACE_MS;
      while ((pids = pidsOf()).length > 0 && Date.now() < killDeadline) sleepSync(POLL_MS);
    }
  }
  for (const ns of namespaces) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
    if (r.status !== 0) problems.push(`ip netns del ${ns}: ${(r.stderr || '').trim()}`);
  }
  return problems;
}

/** Deletes every namespace of the run with this prefix. */
export function cleanupPrefix(prefix) {
  return destroyNamespaces(listNamespaces(prefix));
}

/**
 * Deletes the namespaces of earlier lab runs whose process is gone (killed
 * with SIGKILL, or a crashed machine): `wmlab-<pid>-…` with a dead pid.
 * @returns {string[]} the namespaces removed
 */
export function cleanupStaleRuns() {
  const stale = listNamespaces(NETNS_PREFIX_ROOT).filter((ns) => {
    const m = /^wmlab-(\d+)-/.exec(ns);
    if (!m) return false;
    const pid = Number(m[1]);
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false; // that run is alive: its namespaces are its own business
    } catch (err) {
      return err.code === 'ESRCH';
    }
  });
  destroyNamespaces(stale);
  return stale;
}
