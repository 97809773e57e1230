/**
 * Compatibility shim: startChild() as the quick start used to call it, now a
 * thin adapter over scripts/lib/spawn-ready.mjs (the one module that spawns
 * and waits for our processes). New code uses spawn-ready.mjs directly.
 */
import { existsSync } from 'node:fs';
import { spawnProcess } from './spawn-ready.mjs';

/**
 * Starts a bin with the current Node.js. Throws when the bin is not built.
 * @param {{ name: string, bin: string, args: string[], env?: Record<string, string | undefined>, verbose?: boolean, onStderr?: (line: string) => void, onEvent?: (event: Record<string, unknown>) => void }} options
 */
export function startChild({ name, bin, args, env = process.env, verbose = false, onStderr, onEvent }) {
  if (!existsSync(bin)) throw new Error(`${bin} does not exist: run npm run build first`);
  const proc = spawnProcess({ name, command: process.execPath, args: [bin, ...args], env, verbose, onStderrLine: onStderr, onEvent });
  return {
    process: proc.child,
    exited: proc.exited,
    tail: proc.tail,
    waitFor: (predicate, timeoutMs, what) => proc.waitFor(predicate, { timeoutMs, what }),
    stop: () => proc.stop(),
  };
}
