/** What the CLI reads and writes: its streams, environment and the signals that end it (cli.ts, wingman start). */
import type { Output } from './coalesced-output';
import type { KeyInput } from './terminal-keys';

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** SIGINT/SIGTERM: close gracefully and return 0. */
  signal?: AbortSignal;
  /** Only read on a TTY with the view on. */
  stdin?: KeyInput;
  /** Ends the process at once, native handles left to the OS: tearing down a wrtc connection crashed `wingman fetch` 1 run in 25. Absent (tests): nothing ends. */
  exitNow?: (code: number) => void;
}
