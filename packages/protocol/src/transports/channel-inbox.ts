/**
 * A data channel's first messages held until its taker listens (a message with no listener is lost): the
 * shell's inline script holds them before client.js arrives, which then replays them in front.
 */
import { channelView } from './channel-view';
import type { DataChannelLike } from './data-channel';

/** Before its taker listens the other end sends a proof and a HELLO, then waits: more is a channel not to carry on. */
const CHANNEL_INBOX_MAX = 32;

export interface ChannelInbox {
  readonly messages: unknown[];
  /** Some were dropped. */
  overflowed: boolean;
}

/** A data channel whose `onmessage` can be set (browsers' and @roamhq/wrtc's; typed by each as its own event). */
type HoldableChannel = DataChannelLike & { onmessage: unknown };

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

/** `dc` with its held messages first: the first `message` listener gets them on a microtask, before the channel's next task. */
export function replayingChannel(dc: HoldableChannel, held: readonly unknown[]): DataChannelLike {
  setOnMessage(dc, null);
  const queued = held.slice();
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
