/**
 * A data channel seen through a layer that decides when its `message`
 * listeners hear what: channel binding holds the frames that follow the
 * proof until the protocol listens (trust/channel-binding.ts), the shell
 * puts what its inline script held in front (browser-client's
 * channel-inbox.ts). Everything else is the channel's own.
 */
import type { DataChannelLike } from './data-channel';

/** The channel's fields the view reads through; the writable ones it also sets through. */
const READ_THROUGH = ['binaryType', 'bufferedAmount', 'bufferedAmountLowThreshold', 'readyState'] as const;
const WRITE_THROUGH: ReadonlySet<string> = new Set(['binaryType', 'bufferedAmountLowThreshold']);

/** `dc`, with `message` listeners added through `addMessageListener`. */
export function channelView(dc: DataChannelLike, addMessageListener: (fn: (ev: { data: unknown }) => void) => void): DataChannelLike {
  const view = {
    send: (data: ArrayBuffer) => dc.send(data),
    close: () => dc.close(),
    addEventListener(type: string, fn: (ev: { data: unknown }) => void) {
      if (type !== 'message') return dc.addEventListener(type as 'close', fn as () => void);
      addMessageListener(fn);
    },
  };
  for (const key of READ_THROUGH) {
    const set = WRITE_THROUGH.has(key) ? { set: (v: unknown) => Object.assign(dc, { [key]: v }) } : {};
    Object.defineProperty(view, key, { enumerable: true, get: () => dc[key], ...set });
  }
  return view as unknown as DataChannelLike;
}
