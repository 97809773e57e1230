#!/usr/bin/env node
/** The `wingman` executable: process wiring only (signals, exit code). */
import { main } from '../cli';

/** After a graceful close, the process exits even if a handle lingers, ms. */
const EXIT_GRACE_MS = 3_000;

const controller = new AbortController();
let signals = 0;
const onSignal = () => {
  // A second Ctrl+C does not wait for the graceful close.
  if (++signals > 1) process.exit(130);
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/** Ends the process once what was written to stdout and stderr is flushed. */
const exitNow = (code: number) => {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
};

main(process.argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: controller.signal, exitNow }).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    process.stderr.write(`wingman: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
