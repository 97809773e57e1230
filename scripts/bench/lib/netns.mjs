/**
 * The bench runs inside a loopback-only network namespace: WebRTC (the P2P
 * rows) sends ICE checks to every interface it sees, and in a namespace whose
 * only interface is `lo` nothing else exists to reach (common rules).
 *
 * It also gets its own PID namespace, with the bench as its init: if the bench
 * dies without cleaning up (wrtc can segfault while closing a peer connection),
 * the kernel kills every process left in the namespace, so no tunnel server,
 * agent or app outlives the run. `--kill-child` passes a SIGTERM to the bench
 * when `unshare` itself is terminated. `--mount-proc` (with a mount namespace
 * of its own) mounts that PID namespace's /proc, so that /proc/<pid> of a
 * child is that child: the bench reads its children's CPU time there (proc.mjs).
 */
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { probeNetnsFlags } from '../../lib/prereqs.mjs';
import { childPids } from './proc.mjs';

/** Set on the re-executed copy, so it never tries to re-exec again. */
const INSIDE_ENV = 'WINGMAN_BENCH_NETNS';

/** @returns {string[]} names of interfaces other than loopback */
export function nonLoopbackInterfaces() {
  return Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
}

/** True when this process already runs in a namespace with only `lo`. */
export function insideLoopbackNamespace() {
  return nonLoopbackInterfaces().length === 0;
}

/**
 * The probe's shell: lo up, and /proc/self is the shell itself, pid 1 of the
 * new PID namespace (`read` is a builtin, so the shell opens the file).
 */
const PROBE_SCRIPT = 'ip link set lo up && read pid rest < /proc/self/stat && [ "$pid" = "$$" ]';

/**
 * Runs this script again inside a fresh loopback-only namespace and resolves
 * with its exit code. Never returns a code of 0 unless the inner run succeeded.
 * @param {string} script absolute path of the entry script
 * @param {string[]} args its arguments
 */
export function reexecInNamespace(script, args) {
  if (process.env[INSIDE_ENV] === '1') {
    console.error(`[bench] refusing to run: inside the bench's namespace but found interfaces ${nonLoopbackInterfaces().join(', ')}`);
    return Promise.resolve(1);
  }
  // A PID namespace with its /proc besides the network one (above).
  const { flags, reason } = probeNetnsFlags({ extraFlags: ['-p', '-f', '--kill-child=SIGTERM', '--mount-proc'], script: PROBE_SCRIPT });
  if (!flags) {
    console.error(
      '[bench] cannot create a loopback-only network namespace (needed for the WebRTC rows): run as root, or enable ' +
        'unprivileged user namespaces; needs `unshare` (util-linux) and `ip` (iproute2). ' +
        `Probe said: ${reason}`,
    );
    return Promise.resolve(1);
  }
  console.error(`[bench] entering a loopback-only network namespace (unshare ${flags.join(' ')})`);
  // `sh -c '… && exec "$0" "$@"'`: bring lo up (it starts down), then become node.
  const child = spawn('unshare', [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, script, ...args], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE_ENV]: '1' },
  });
  // Ctrl-C reaches the whole foreground group, the inner bench included. SIGTERM
  // we pass on to the bench itself: `unshare --fork` does not forward signals to
  // its child, and --kill-child only fires when unshare dies.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {
    for (const pid of childPids(child.pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  });
  return new Promise((resolveCode) => {
    child.on('error', (err) => {
      console.error(`[bench] could not start unshare: ${err.message}`);
      resolveCode(1);
    });
    child.on('close', (code, signal) => resolveCode(code ?? (signal ? 1 : 0)));
  });
}
