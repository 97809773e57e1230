/**
 * The one error class of the Service Worker's P2P path. `code` is a protocol
 * ERR_* code (or ERR_CANCEL / ERR_TIMEOUT / ERR_CONNECTION_LOST from the SW
 * itself); `channelFailure` says the data channel or the page carrying it
 * failed (a retry over the relay can help), as opposed to an abort or a
 * timeout (it cannot).
 */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: string,
    message: string,
    readonly channelFailure = true,
  ) {
    super(`${code}: ${message}`);
  }
}
