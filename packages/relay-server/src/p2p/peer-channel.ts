/**
 * The viewer's data channel on the host: bound to the link key first, then
 * serving protocol streams with heartbeat and idle check. A second channel
 * with the app's label is closed.
 */
import {
  bindDataChannel,
  BindingError,
  connectionOverDataChannel,
  DATA_CHANNEL_LABEL,
  dataChannelMessageBytes,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  maxMessageSizeFromSdp,
  readyConnection,
  startHeartbeat,
  type Connection,
  type DataChannelLike,
} from '@wingman/protocol';
import { DEFAULT_IDLE_TIMEOUT_MS, MONITOR_INTERVAL_MS, MONITOR_MAX_MISSED, MONITOR_TIMEOUT_MS } from './peer-host-options';
import { closePeerEntry, report, tell, untrusted, type HostState, type Peer } from './peer-state';
import { channelProofs, closeChannel, type RtcDataChannel } from './webrtc';

export function onChannel(host: HostState, peer: Peer, dc: RtcDataChannel): void {
  if (dc.label !== DATA_CHANNEL_LABEL || peer.dc || peer.closed) {
    return closeChannel(dc);
  }
  peer.dc = dc;
  dc.addEventListener('open', () => peer.trace('data channel open'));
  const keys = peer.keys;
  // With the link key, the viewer's first message must prove it holds the key on this very DTLS association.
  readyConnection(dc, {
    ...(keys ? { bind: (c: DataChannelLike) => bindDataChannel(c, () => channelProofs(peer.pc, keys, 'agent')) } : {}),
    connect: (bound) => serve(host, peer, dc, bound),
  }).then(
    (conn) => {
      if (!peer.closed) peer.connection = conn;
    },
    (err: unknown) => {
      if (!(err instanceof BindingError)) return closePeerEntry(host, peer, 'closed', 'data channel closed');
      if (err.refused) untrusted(host, peer.viewerId, 'channel-binding', err.message);
      closePeerEntry(host, peer, 'failed', `channel binding failed: ${err.message}`);
    },
  );
  dc.addEventListener('close', () => closePeerEntry(host, peer, 'closed', 'data channel closed'));
}

/** `bound`: the channel past its binding, or the channel itself. */
function serve(host: HostState, peer: Peer, dc: RtcDataChannel, bound: DataChannelLike): Connection {
  const remoteMax = peer.pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(peer.pc.remoteDescription?.sdp ?? '');
  const conn = connectionOverDataChannel(bound, {
    role: 'server',
    maxWsMessageBytes: host.options.wsMaxMessageBytes ?? DEFAULT_WS_MESSAGE_LIMIT_BYTES,
    maxMessageBytes: dataChannelMessageBytes(remoteMax, host.ownMaxMessageBytes),
    // Over it, a new stream is reset with ERR_TOO_MANY_STREAMS (stream-table.ts).
    maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
    // Once per event-loop turn: every send is a synchronous call into wrtc's threads (docs/PROTOCOL.md §Scheduling).
    schedule: setImmediate,
  });
  peer.lastActivity = Date.now();
  conn.on('stream', (stream) => {
    peer.lastActivity = Date.now();
    host.options.handleStream(stream, 'p2p', peer.viewerId);
  });
  conn.on('close', () => closePeerEntry(host, peer, 'closed', 'data channel closed'));
  if (!peer.connected && !peer.closed) {
    peer.connected = true;
    report(host, { viewerId: peer.viewerId, state: 'connected', connectMs: Date.now() - peer.startedAt, verified: peer.keys !== undefined });
    monitor(host, peer, conn, dc);
  }
  return conn;
}

function monitor(host: HostState, peer: Peer, conn: Connection, dc: RtcDataChannel): void {
  // A PING stuck behind a bulk transfer on a lossy path is not a dead channel: see ChannelLiveness.
  const stop = startHeartbeat(conn, {
    intervalMs: MONITOR_INTERVAL_MS,
    timeoutMs: MONITOR_TIMEOUT_MS,
    maxMissed: MONITOR_MAX_MISSED,
    bufferedAmount: () => dc.bufferedAmount,
    immediate: true,
    onRtt: (ms) => {
      peer.rttMs = ms;
      tell(() => host.options.onRtt?.(peer.viewerId, ms));
    },
    onDead: () => closePeerEntry(host, peer, 'failed', 'ping timeout'),
  });
  const idleCheck = setInterval(() => {
    if (conn.streamCount > 0) peer.lastActivity = Date.now();
    if (Date.now() - peer.lastActivity > DEFAULT_IDLE_TIMEOUT_MS) closePeerEntry(host, peer, 'closed', 'idle');
  }, MONITOR_INTERVAL_MS);
  peer.stops.push(stop, () => clearInterval(idleCheck));
}
