/**
 * The `info` lines about slots cut for a viewer holding fewer (push-out.ts): relay streams, signaling sockets.
 * Whoever holds many networks decides how often cuts happen, so the lines are bounded (log-limit.ts): per pair of
 * networks (the one cut, the one served) one line as it comes and one summary of the rest per interval, and pairs
 * past the first few of an interval in one summary.
 */
import { createLogLimit, LOG_LIMIT_INTERVAL_MS, type LimitedLine } from '../log-limit';
import type { Logger } from '../logger';
import type { SlotCut } from './push-out';

/** A cut as logged: the session's id, the network cut and the one served. */
interface LoggedCut {
  sessionId: string;
  cut: SlotCut<unknown>;
}

/** `what`: the slot, as the lines name it ("stream", "signaling socket"). */
export function createCutLog(logger: Logger, what: string, intervalMs = LOG_LIMIT_INTERVAL_MS) {
  const intervalS = Math.round(intervalMs / 1000);
  const write = ({ entry: { sessionId, cut }, suppressed, overflow }: LimitedLine<LoggedCut>) => {
    const fields = { sessionId, network: cut.cut.network, source: cut.cut.source, held: cut.held, for: cut.taker.network };
    if (suppressed === 0) {
      return logger.info(
        { ...fields, ...(cut.error !== undefined ? { err: cut.error } : {}) },
        `session full: cut the newest ${what} of the network holding the most, for a viewer holding fewer`,
      );
    }
    if (overflow) {
      return logger.info({ suppressed, intervalS }, `session full: ${suppressed} more ${what} cuts between other pairs of networks, not logged one by one`);
    }
    logger.info({ ...fields, suppressed, intervalS }, `session full: ${suppressed} more ${what} cuts from this network for that one, not logged one by one`);
  };
  const limit = createLogLimit(write, { intervalMs });
  return {
    /** One cut in `sessionId`: logged now, or counted into its pair's summary. */
    record(sessionId: string, cut: SlotCut<unknown>): void {
      limit.record(`${cut.cut.network} ${cut.taker.network}`, { sessionId, cut });
    },
    flush: limit.flush,
  };
}
