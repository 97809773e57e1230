/** Types for spawn-ready.mjs (one way to run a child process and wait for it). */
import type { ChildProcess } from 'node:child_process';

export type JsonEvent = Record<string, unknown>;
export type Stream = 'stdout' | 'stderr';

export interface SpawnOptions {
  /** Short label for messages, e.g. "server". */
  name: string;
  /** The executable (process.execPath for a Node.js script). */
  command: string;
  args?: string[];
  /** Environment (default: ours). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run in its own process group so stop() also ends grandchildren (default true). */
  ownProcessGroup?: boolean;
  /** Write stdout to this file instead of a pipe (a busy parent never stalls the child); read while a wait is pending. */
  stdoutFile?: string;
  /** With stdoutFile: delete it on stop(). */
  removeStdoutFile?: boolean;
  /** Echo every output line to our stderr, prefixed with the name. */
  verbose?: boolean;
  /** SIGTERM → SIGKILL grace period of stop() (default 5 s). */
  stopGraceMs?: number;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  onEvent?: (event: JsonEvent) => void;
}

export interface ProcWaitOptions {
  timeoutMs?: number;
  what?: string;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  ownProcessGroup: boolean;
  /** JSON lines printed on stdout so far (bounded). */
  events: JsonEvent[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForMatch<T>(match: (line: string, event: JsonEvent | undefined, stream: Stream) => T | undefined, options?: ProcWaitOptions): Promise<T>;
  waitFor(predicate: (e: JsonEvent) => boolean, options?: ProcWaitOptions | number, what?: string): Promise<JsonEvent>;
  waitForEvent(eventName: string, options?: ProcWaitOptions | number): Promise<JsonEvent>;
  waitForLine(
    pattern: RegExp | ((line: string) => boolean),
    options?: (ProcWaitOptions & { stream?: Stream | 'both' }) | number,
    what?: string,
  ): Promise<string>;
  /** How the process ended; rejects if it is still running after timeoutMs. */
  waitForExit(options?: ProcWaitOptions): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdoutLines(): string[];
  /** Stderr lines seen so far (the first 100 000 lines of both streams). */
  stderrLines(): string[];
  /** Last lines of output, both streams. */
  tail(): string;
  stderrTail(lines?: number): string;
  /** The last 20 000 characters of stderr. */
  stderr(): string;
  isRunning(): boolean;
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

export interface SpawnReadyOptions extends SpawnOptions {
  /** A JSON event name, a predicate over JSON events, or a RegExp for a line on either stream. */
  ready: string | RegExp | ((e: JsonEvent) => boolean);
  readyTimeoutMs?: number;
  readyWhat?: string;
}

export declare function spawnProcess(options: SpawnOptions): ManagedProcess;
export declare function spawnReady<R = JsonEvent>(options: SpawnReadyOptions): Promise<{ proc: ManagedProcess; ready: R }>;
export declare function stopAll(): Promise<void>;
export declare function killAllNow(): void;
