/**
 * A data channel seen through a layer that decides when its `message`
 * listeners hear what: channel binding holds the frames that follow the
 * proof until the protocol listens (trust/channel-binding.ts), the shell
 * puts what its inline script held in front (browser-client's
 * channel-inbox.ts). Everything else is the channel's own.
 */
import type { DataChannelLike } from './data-channel';

/** `dc`, with `message` listeners added through `addMessageListener`. */
export function channelView(dc: DataChannelLike, addMessageListener: (fn: (ev: { data: unknown }) => void) => void): DataChannelLike {
  return {
    get binaryType() {
      return dc.binaryType;
    },
    set binaryType(v) {
      dc.binaryType = v;
    },
    get bufferedAmount() {
      return dc.bufferedAmount;
    },
    get bufferedAmountLowThreshold() {
      return dc.bufferedAmountLowThreshold;
    },
    set bufferedAmountLowThreshold(v) {
      dc.bufferedAmountLowThreshold = v;
    },
    get readyState() {
      return dc.readyState;
    },
    send: (data) => dc.send(data),
    close: () => dc.close(),
    addEventListener(type: string, fn: (ev: { data: unknown }) => void) {
      if (type !== 'message') return dc.addEventListener(type as 'close', fn as () => void);
      addMessageListener(fn);
    },
  };
}
