/**
 * The `info` lines about slots cut for a viewer holding fewer (push-out.ts): relay streams, signaling sockets.
 * Whoever holds many networks decides how often cuts happen, so the lines are bounded: per interval, the first cut
 * between a pair of networks (the one cut, the one served) is written as it comes, the rest of that pair's counted and
 * summed up in one line when the interval ends; pairs past the first `maxKeys` of an interval share one summary. So an
 * interval writes at most 2 × maxKeys + 1 lines and keeps at most maxKeys entries.
 */
import type { Logger } from '../logger';
import type { SlotCut } from './push-out';

/** The interval over which one pair of networks writes at most one line and one summary. */
export const LOG_LIMIT_INTERVAL_MS = 60_000;
/** Pairs written one by one per interval; further pairs share one summary. */
export const LOG_LIMIT_MAX_KEYS = 32;

/** A cut as logged: the session's id, the network cut and the one served. */
interface LoggedCut {
  sessionId: string;
  cut: SlotCut<unknown>;
}

/** `what`: the slot, as the lines name it ("stream", "signaling socket"). */
export function createCutLog(logger: Logger, what: string, { intervalMs = LOG_LIMIT_INTERVAL_MS, maxKeys = LOG_LIMIT_MAX_KEYS } = {}) {
  const intervalS = Math.round(intervalMs / 1000);
  /** This interval's pairs, each with its latest cut and how many of its cuts were left out so far. */
  const pairs = new Map<string, { latest: LoggedCut; suppressed: number }>();
  /** Cuts of pairs past maxKeys this interval. */
  let overflow = 0;
  let timer: NodeJS.Timeout | undefined;

  const fieldsOf = ({ sessionId, cut }: LoggedCut) => ({ sessionId, network: cut.cut.network, source: cut.cut.source, held: cut.held, for: cut.taker.network });

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    for (const { latest, suppressed } of pairs.values()) {
      if (suppressed === 0) continue;
      logger.info(
        { ...fieldsOf(latest), suppressed, intervalS },
        `session full: ${suppressed} more ${what} cuts from this network for that one, not logged one by one`,
      );
    }
    pairs.clear();
    if (overflow > 0)
      logger.info({ suppressed: overflow, intervalS }, `session full: ${overflow} more ${what} cuts between other pairs of networks, not logged one by one`);
    overflow = 0;
  }

  return {
    /** One cut in `sessionId`: logged now when its pair has had none this interval, else counted into a summary. */
    record(sessionId: string, cut: SlotCut<unknown>): void {
      if (!timer) {
        timer = setTimeout(flush, intervalMs);
        // Summaries wait for the interval, never the process's exit (the server's close flushes them).
        timer.unref();
      }
      const key = `${cut.cut.network} ${cut.taker.network}`;
      const counted = pairs.get(key);
      if (counted) {
        counted.latest = { sessionId, cut };
        counted.suppressed++;
      } else if (pairs.size < maxKeys) {
        pairs.set(key, { latest: { sessionId, cut }, suppressed: 0 });
        logger.info(
          { ...fieldsOf({ sessionId, cut }), ...(cut.error !== undefined ? { err: cut.error } : {}) },
          `session full: cut the newest ${what} of the network holding the most, for a viewer holding fewer`,
        );
      } else overflow++;
    },
    /** Ends the interval now: writes its summaries and stops its timer (the timer calls it; so does the server's close). */
    flush,
  };
}
