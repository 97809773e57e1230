/**
 * A data channel run up to a ready Connection: bound to the link key first
 * when the session has one (trust/channel-binding.ts), its Connection made
 * once it is open, ready at the other end's HELLO. The browser shell, the
 * Node viewer and the agent each run their one channel this way.
 */
import type { Connection } from '../connection';
import type { DataChannelLike } from './data-channel';

interface ReadyConnectionOptions {
  /** Binds the channel (channel-binding.ts) before any frame; absent: the channel is used as it is. */
  bind?: (dc: DataChannelLike) => Promise<DataChannelLike>;
  /** Makes the channel's Connection over the (bound) open channel; attach its handlers here. */
  connect: (channel: DataChannelLike) => Connection;
}

/**
 * Resolves with the channel's Connection once the other end's HELLO
 * arrived; rejects when the channel closes, or fails its binding (the
 * BindingError), before. A channel that is not bound never gets a
 * Connection when `bind` is given.
 */
export function readyConnection(dc: DataChannelLike, options: ReadyConnectionOptions): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let conn: Connection | undefined;
    let done = false;
    const settle = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(conn!);
    };
    const serve = (channel: DataChannelLike) => {
      if (done || conn) return;
      if (channel.readyState !== 'open') return settle(new Error('the data channel closed before it was ready'));
      conn = options.connect(channel);
      conn.once('ready', () => settle());
      conn.once('close', () => settle(new Error('the data channel closed before it was ready')));
    };
    dc.addEventListener('close', () => settle(new Error('the data channel closed before it was ready')));
    if (options.bind) {
      options.bind(dc).then(serve, (err: Error) => settle(err));
    } else if (dc.readyState === 'open') serve(dc);
    else dc.addEventListener('open', () => serve(dc));
  });
}
