/**
 * A data channel's first messages, held for a listener that is not there
 * yet: a message with no listener is lost. The shell's inline script holds
 * what its channel receives before client.js has arrived (docs/PROTOCOL.md
 * §Verified channels). The taker carries the channel on with them in front
 * (replayingChannel), in order, before any that arrives later.
 */
import { channelView } from './channel-view';
import type { DataChannelLike } from './data-channel';

/**
 * Messages held per channel at most. Before its taker listens, the other end
 * sends its channel-binding proof and the protocol's HELLO on the channel
 * and then waits: a few messages. A channel that gets more is not one its
 * taker can carry on (`overflowed`).
 */
const CHANNEL_INBOX_MAX = 32;

/** What is held of one channel. */
export interface ChannelInbox {
  readonly messages: unknown[];
  /** More than CHANNEL_INBOX_MAX arrived: some were dropped. */
  overflowed: boolean;
}

/** A data channel whose `onmessage` can be set (browsers' and @roamhq/wrtc's; typed by each as its own event). */
type HoldableChannel = DataChannelLike & { onmessage: unknown };

/** Sets `dc`'s onmessage handler (null: none). */
function setOnMessage(dc: HoldableChannel, fn: ((ev: { data: unknown }) => void) | null): void {
  (dc as { onmessage: unknown }).onmessage = fn;
}

/** Holds what arrives on `dc` until taken (binary as ArrayBuffer, as the protocol reads it). */
export function holdMessages(dc: HoldableChannel): ChannelInbox {
  const inbox: ChannelInbox = { messages: [], overflowed: false };
  dc.binaryType = 'arraybuffer';
  setOnMessage(dc, (ev) => {
    if (inbox.messages.length < CHANNEL_INBOX_MAX) inbox.messages.push(ev.data);
    else inbox.overflowed = true;
  });
  return inbox;
}

/**
 * `dc` as its taker uses it, its held messages first: the holding stops
 * now, and the first `message` listener added gets the held ones on a
 * microtask (after the caller's synchronous set-up, before any message event
 * of the channel, which comes as a task).
 */
export function replayingChannel(dc: HoldableChannel, held: readonly unknown[]): DataChannelLike {
  setOnMessage(dc, null);
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
