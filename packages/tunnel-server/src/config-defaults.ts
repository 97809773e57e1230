/** Defaults that both the options table (cli-options.ts, for --help) and the option schema (config.ts) use. */

/** Port the server listens on when none is given. */
export const DEFAULT_PORT = 8080;
/** Loopback by default: a tunnel server is only exposed on purpose (`--host 0.0.0.0`). */
export const DEFAULT_HOST = '127.0.0.1';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
