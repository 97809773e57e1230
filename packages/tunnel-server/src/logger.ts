/** pino logger on stderr, so stdout stays free for the one listening line (and its `--json` form) that scripts read. */
import pino, { type Logger } from 'pino';
import type { LogLevel } from './cli-options';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  // Synchronous: the server logs per agent connect/disconnect and on errors only (never per request), and nothing is lost when the process exits.
  return pino({ level, base: { name: 'wingman-server' } }, pino.destination({ dest: 2, sync: true }));
}
