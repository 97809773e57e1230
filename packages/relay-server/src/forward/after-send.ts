/**
 * Work that must not delay a response (the request log line, the capture):
 * run where the frames are queued, it would come before their send. One
 * setImmediate per turn for all that is queued, in order.
 */

const queue: Array<() => void> = [];
let scheduled = false;

function runQueued(): void {
  scheduled = false;
  // Calls queued while running go to the next turn, so one turn stays bounded.
  for (const fn of queue.splice(0)) {
    try {
      fn();
    } catch (err) {
      // A logging or inspector bug must not break other requests; say so on stderr.
      process.emitWarning(`wingman forwarder: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
}

/** Runs `fn` after what the current turn sends has been handed to the transport. */
export function afterSend(fn: () => void): void {
  queue.push(fn);
  if (scheduled) return;
  scheduled = true;
  setImmediate(runQueued);
}
