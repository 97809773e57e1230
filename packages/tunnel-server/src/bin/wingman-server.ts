#!/usr/bin/env node
/**
 * wingman-server: runs a tunnel server. Prints one line on stdout once listening (the URL, or
 * `{"event":"listening",...}` with --json); logs go to stderr. Warnings about links that cannot work go to stderr as
 * text, or with --json to stdout as `{"event":"warning",...}` lines after the listening line. SIGINT / SIGTERM close
 * it gracefully (bounded).
 */
import { CLI_USAGE, ConfigError, configFromCli } from '../config';
import { createTunnelServer } from '../server';

/** Longest graceful shutdown before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 5_000;

function die(message: string, code: number): never {
  process.stderr.write(`wingman-server: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let cli;
  try {
    cli = configFromCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    die(err.message.split('\n').join('\nwingman-server: '), 2);
  }
  if (cli.help) {
    process.stdout.write(`${CLI_USAGE}\n`);
    return;
  }
  let server;
  try {
    server = await createTunnelServer(cli.config);
  } catch (err) {
    // Found only when starting: an unreadable or mismatched TLS certificate/key.
    if (err instanceof ConfigError) die(err.message, 2);
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'EADDRINUSE'
        ? `port ${cli.config.port} is already in use`
        : e.code === 'EACCES'
          ? `no permission to listen on port ${cli.config.port}`
          : e.message;
    die(`cannot listen on ${cli.config.host}:${cli.config.port}: ${why}`, 1);
  }
  const shutdown = (signal: string) => {
    const timer = setTimeout(() => die(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms; exiting`, 1), SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    server.close().then(
      () => process.exit(0),
      (err: Error) => die(`error during shutdown (${signal}): ${err.message}`, 1),
    );
  };
  // Handlers before the ready line: whoever reads it may signal at once, and until a listener exists SIGINT / SIGTERM
  // kill the process (exit by signal, not 0) — seen once in CI as a race.
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.stdout.write(
    cli.json ? `${JSON.stringify({ event: 'listening', url: server.url, port: server.port })}\n` : `Wingman tunnel server listening on ${server.url}\n`,
  );
  // After the listening line, which scripts read first.
  for (const w of server.warnings) {
    if (cli.json) process.stdout.write(`${JSON.stringify({ event: 'warning', code: w.code, message: w.message })}\n`);
    else process.stderr.write(`\nwingman-server: warning (${w.code}): ${w.message.split('\n').join('\n  ')}\n\n`);
  }
}

main().catch((err: Error) => die(err.stack ?? err.message, 1));
