/**
 * A data channel's first messages, held for a script that is not there yet.
 * The shell's inline script applies the agent's answer before client.js has
 * arrived (early-signals.ts), so a channel can open, and the agent speak on
 * it, before anything of client.js listens: a message with no listener is
 * lost. The inline script holds them (holdMessages); client.js takes the
 * channel over with them in front (replayingChannel), in order, before any
 * that arrives later.
 */
import { channelView, type DataChannelLike } from '@wingman/protocol';

/**
 * Messages held per channel at most. Before client.js runs, the agent sends
 * its channel-binding proof and the protocol's HELLO on each channel and
 * then waits for the shell's: a few messages. A channel that gets more is
 * not one client.js can carry on (`overflowed`).
 */
export const CHANNEL_INBOX_MAX = 32;

/** What the inline script holds of one channel, as client.js finds it. */
export interface ChannelInbox {
  readonly messages: unknown[];
  /** More than CHANNEL_INBOX_MAX arrived: some were dropped. */
  overflowed: boolean;
}

/** Holds what arrives on `dc` until `release`d (binary as ArrayBuffer, as the protocol reads it). */
export function holdMessages(dc: RTCDataChannel): ChannelInbox {
  const inbox: ChannelInbox = { messages: [], overflowed: false };
  dc.binaryType = 'arraybuffer';
  dc.onmessage = (ev: MessageEvent) => {
    if (inbox.messages.length < CHANNEL_INBOX_MAX) inbox.messages.push(ev.data);
    else inbox.overflowed = true;
  };
  return inbox;
}

/**
 * `dc` as client.js uses it, its held messages first: the inline script's
 * holding stops now, and the first `message` listener added gets the held
 * ones on a microtask (after the caller's synchronous set-up, before any
 * message event of the channel, which comes as a task).
 */
export function replayingChannel(dc: RTCDataChannel, held: readonly unknown[]): DataChannelLike {
  dc.onmessage = null;
  const queued = held.slice();
  /** Listeners added before the held messages went out: they get them, then the channel's own. */
  const waiting: Array<(ev: { data: unknown }) => void> = [];
  let live = queued.length === 0;
  return channelView(dc, (fn) => {
    if (live) return dc.addEventListener('message', fn);
    waiting.push(fn);
    if (waiting.length > 1) return;
    queueMicrotask(() => {
      for (const data of queued.splice(0)) for (const l of waiting) l({ data });
      live = true;
      for (const l of waiting.splice(0)) dc.addEventListener('message', l);
    });
  });
}
