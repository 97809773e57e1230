/**
 * Test hook only: a data channel whose sends can be held back for a while,
 * as SCTP holds every message of an ordered channel behind a lost packet
 * until its retransmission. Lets the browser e2e tests make a channel stall
 * on loopback, where nothing is lost. Enabled by the P2P host process's
 * WINGMAN_TEST_P2P_STALL ("<target> <ms>": a stream for that request target
 * holds the channel's sends, PONGs included, for ms); never in production use.
 */
import type { RtcDataChannel } from './webrtc';

export interface HeldChannel {
  readonly channel: RtcDataChannel;
  /** Holds every send from now for `ms` (messages queue and leave in order afterwards). */
  hold(ms: number): void;
}

/** Parses WINGMAN_TEST_P2P_STALL: "<request target> <ms>", or undefined. */
export function parseStallHook(raw: string | undefined): { target: string; ms: number } | undefined {
  const m = /^(\/\S*) (\d{1,6})$/.exec(raw ?? '');
  return m ? { target: m[1]!, ms: Number(m[2]) } : undefined;
}

export function heldChannel(dc: RtcDataChannel): HeldChannel {
  const queue: ArrayBuffer[] = [];
  let queued = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    for (const m of queue.splice(0)) if (dc.readyState === 'open') dc.send(m);
    queued = 0;
  };
  dc.addEventListener('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    queue.length = 0;
  });
  const channel = new Proxy(dc, {
    get(target, prop) {
      if (prop === 'send')
        return (m: ArrayBuffer) => {
          if (timer === undefined) return target.send(m);
          queue.push(m);
          queued += m.byteLength;
        };
      if (prop === 'bufferedAmount') return target.bufferedAmount + queued;
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value);
    },
  });
  return {
    channel,
    hold(ms) {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(flush, ms);
    },
  };
}
