/** A data channel run up to a ready Connection (bound first when the session has a link key), at the shell, Node viewer and agent. */
import type { Connection } from '../connection';
import type { DataChannelLike } from './data-channel';

interface ReadyConnectionOptions {
  /** Binds the channel (channel-binding.ts) before any frame; absent: the channel is used as it is. */
  bind?: (dc: DataChannelLike) => Promise<DataChannelLike>;
  /** Makes the channel's Connection over the (bound) open channel; attach its handlers here. */
  connect: (channel: DataChannelLike) => Connection;
}

/** Resolves at the other end's HELLO; rejects when the channel closes or fails its binding (BindingError) first. */
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
