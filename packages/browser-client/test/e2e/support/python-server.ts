/**
 * A Python app (Debian's /usr/bin/python3) served on 127.0.0.1 from a folder
 * of its own: started, waited for until it says it listens, and stopped with
 * its folder removed. The Django and Tornado apps of the framework tests.
 */
import { rmSync } from 'node:fs';
import { startCommand, type Proc } from '../../../../../test/helpers/processes';

/** Debian's python3, which has Debian's python3-* modules (a pyenv or venv python on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface PythonServer {
  port: number;
  server: Proc;
  close(): Promise<void>;
}

export interface PythonServerOptions {
  /** The app's folder, removed when the server stops (or fails to start). */
  dir: string;
  port: number;
  args: string[];
  env?: Record<string, string>;
  /** A line the app prints once it listens. */
  ready: RegExp;
  timeoutMs: number;
  /** What to install when it does not start, for the error. */
  hint: string;
}

export async function startPythonServer(options: PythonServerOptions): Promise<PythonServer> {
  const { dir, port } = options;
  const server = startCommand(DEBIAN_PYTHON, options.args, { PYTHONDONTWRITEBYTECODE: '1', ...options.env });
  const close = async () => {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.waitForLine(options.ready, { timeoutMs: options.timeoutMs, stream: 'both' });
  } catch (err) {
    await close();
    throw new Error(`the app did not start (${options.hint}): ${(err as Error).message}`);
  }
  return { port, server, close };
}
