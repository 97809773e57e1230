/**
 * The request log's writes, gathered: a synchronous write per line was ~7 %
 * of the agent's CPU per small request. Lines leave together at most
 * REQUEST_LOG_FLUSH_MS later; `write` (banner, warnings) flushes first, so the
 * order never changes. What waits is written at exit.
 */
/** Where the CLI writes: stdout or stderr, or a test's capture. */
export interface Output {
  write(text: string): unknown;
  /** A terminal (process.stdout.isTTY); decides whether the QR code is printed by default. */
  isTTY?: boolean;
}

/** Longest a request line waits before it is written, ms: below what a person notices, long enough to gather a busy second's lines. */
const REQUEST_LOG_FLUSH_MS = 20;
/** Characters waiting that trigger a write at once (~200 request lines): bounds the memory and the size of one write. */
export const REQUEST_LOG_MAX_PENDING_CHARS = 16 * 1024;

interface CoalescedOutput extends Output {
  /** Writes `text` with the next batch. */
  writeLater(text: string): void;
  /** Writes what waits now. */
  flush(): void;
}

/** Outputs with lines waiting, flushed when the process exits (one 'exit' listener for all). */
const pendingOutputs = new Set<CoalescedOutput>();
let exitHookInstalled = false;

export function coalescedOutput(out: Output, flushMs = REQUEST_LOG_FLUSH_MS): CoalescedOutput {
  let pending = '';
  let timer: NodeJS.Timeout | undefined;

  const self: CoalescedOutput = {
    isTTY: out.isTTY,
    write(text) {
      self.flush();
      return out.write(text);
    },
    writeLater(text) {
      pending += text;
      if (pending.length >= REQUEST_LOG_MAX_PENDING_CHARS) return self.flush();
      if (timer !== undefined) return;
      pendingOutputs.add(self);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
          for (const out of pendingOutputs) out.flush();
        });
      }
      // unref: a waiting log line never keeps the process alive; the exit hook writes it.
      timer = setTimeout(() => self.flush(), flushMs).unref();
    },
    flush() {
      clearTimeout(timer);
      timer = undefined;
      pendingOutputs.delete(self);
      if (pending === '') return;
      const text = pending;
      pending = '';
      out.write(text);
    },
  };
  return self;
}
