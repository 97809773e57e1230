/**
 * Log lines that outsiders can cause, bounded: per interval, a key's first occurrence is written, the rest counted and
 * summed up in one line when the interval ends; past `maxKeys` keys, further ones share one summary. So an interval
 * writes at most 2 × maxKeys + 1 lines and keeps at most maxKeys + 1 entries.
 */

/** The interval over which one key writes at most one line and one summary. */
export const LOG_LIMIT_INTERVAL_MS = 60_000;
/** Keys written one by one per interval; further keys share one summary. */
export const LOG_LIMIT_MAX_KEYS = 32;

/** One line to write: `suppressed` 0 for an occurrence written as it comes, else how many of its key were left out (`overflow`: of keys past maxKeys). */
export interface LimitedLine<T> {
  /** The occurrence written as it came, or the latest of those left out. */
  entry: T;
  suppressed: number;
  overflow: boolean;
}

interface Counted<T> {
  latest: T;
  suppressed: number;
}

export function createLogLimit<T>(write: (line: LimitedLine<T>) => void, { intervalMs = LOG_LIMIT_INTERVAL_MS, maxKeys = LOG_LIMIT_MAX_KEYS } = {}) {
  /** This interval's keys, each with what it left out so far. */
  const keys = new Map<string, Counted<T>>();
  /** Occurrences of keys past maxKeys this interval. */
  let overflow: Counted<T> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    for (const { latest, suppressed } of keys.values()) if (suppressed > 0) write({ entry: latest, suppressed, overflow: false });
    keys.clear();
    if (overflow) write({ entry: overflow.latest, suppressed: overflow.suppressed, overflow: true });
    overflow = undefined;
  }

  return {
    /** One occurrence of `key`: written now when its key has had none this interval, else counted. */
    record(key: string, entry: T): void {
      if (!timer) {
        timer = setTimeout(flush, intervalMs);
        // Summaries wait for the interval, never the process's exit (the server's close flushes them).
        timer.unref();
      }
      const counted = keys.get(key);
      if (counted) {
        counted.latest = entry;
        counted.suppressed++;
      } else if (keys.size < maxKeys) {
        keys.set(key, { latest: entry, suppressed: 0 });
        write({ entry, suppressed: 0, overflow: false });
      } else if (overflow) {
        overflow.latest = entry;
        overflow.suppressed++;
      } else overflow = { latest: entry, suppressed: 1 };
    },
    /** Ends the interval now: writes its summaries and stops its timer (the timer calls it; so does the server's close). */
    flush,
  };
}
