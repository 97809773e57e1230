/**
 * `npm run lab -- --udp-rcvbuf <bytes>`: an experiment on the lab's own
 * processes, never part of Wingman. Compiles udp-rcvbuf.c into the run's
 * build directory and puts it in LD_PRELOAD (with WMLAB_UDP_RCVBUF_BYTES) of
 * the lab's environment, which every process of the run inherits: each
 * SO_RCVBUF request on a UDP socket below the given size is raised to it. So
 * the lab can show what the peer path gives when the agent's
 * @roamhq/wrtc socket (libwebrtc asks 256 KiB) and Chromium's hold more
 * (docs/lab-log.md §Bulk floor). Sockets nobody sizes keep net.core.rmem_default.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../stack.mjs';

const SOURCE = join(ROOT, 'scripts/lab/udp-rcvbuf/udp-rcvbuf.c');
/** A 30-line library compiles in well under a second; 60 s covers a loaded machine. */
const COMPILE_TIMEOUT_MS = 60_000;
/** SO_RCVBUF takes an int; the kernel caps it at net.core.rmem_max anyway. */
const MAX_BYTES = 1024 * 1024 * 1024;

/**
 * @param {string} text the option's value
 * @returns {number} bytes
 */
export function parseRcvbufBytes(text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 4096 || n > MAX_BYTES) throw new Error(`--udp-rcvbuf needs a byte count from 4096 to ${MAX_BYTES}, got "${text}"`);
  return n;
}

/**
 * Compiles the library into `dir` and sets LD_PRELOAD and WMLAB_UDP_RCVBUF_BYTES in `env`.
 * @param {{ dir: string, compiler: string, bytes: number, env: NodeJS.ProcessEnv }} options
 */
export function preloadUdpRcvbuf({ dir, compiler, bytes, env }) {
  const out = join(dir, 'udp-rcvbuf.so');
  const r = spawnSync(compiler, ['-shared', '-fPIC', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, SOURCE, '-ldl'], {
    encoding: 'utf8',
    timeout: COMPILE_TIMEOUT_MS,
  });
  if (r.status !== 0) throw new Error(`${compiler} could not compile ${SOURCE}: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`);
  env.LD_PRELOAD = [out, env.LD_PRELOAD].filter(Boolean).join(':');
  env.WMLAB_UDP_RCVBUF_BYTES = String(bytes);
}
