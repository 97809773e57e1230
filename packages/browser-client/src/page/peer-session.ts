/**
 * A P2P attempt (attempt.ts) carried on to a live session: its data channel bound to the link key first
 * when the link has one (docs/PROTOCOL.md §Verified channels), then the protocol's HELLO on it, with what
 * the channel received before this listened delivered first. Rejects with the attempt's AttemptError.
 */
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  readyConnection,
  replayingChannel,
  runLossProbe,
  type ChannelFingerprints,
  type ChannelInbox,
  type Connection,
  type DataChannelLike,
  type LossProbeOptions,
  type LossProbeResult,
  type TrustKeys,
} from '@wingman/protocol';
import { P2PAttempt } from './attempt';
import { AttemptError, type UntrustedReport } from './attempt-types';
import { channelFingerprints } from './channel-fingerprints';
import type { ShellPeer } from './peer-connection';
import { mark } from './timeline';

/** Carries `adopted` on (the attempt the shell's inline script started), or starts a new attempt with `keys` (the link key's, when the link had one). */
export function attemptP2P(adopted: P2PAttempt | undefined, keys?: Promise<TrustKeys>, untrusted: UntrustedReport = () => undefined): Promise<PeerSession> {
  if (typeof RTCPeerConnection !== 'function') return Promise.reject(new AttemptError('unsupported', 'this browser has no WebRTC', true));
  let attempt: P2PAttempt;
  try {
    attempt = adopted ?? new P2PAttempt(keys);
  } catch (err) {
    return Promise.reject(new AttemptError('signaling', `cannot open signaling: ${(err as Error).message}`));
  }
  return new Promise<PeerSession>((resolve, reject) =>
    attempt.listen({ untrusted, failed: reject, peer: (peer, inbox) => void connect(attempt, peer, inbox, untrusted).then(resolve, () => undefined) }),
  );
}

/** Runs the attempt's channel up to a ready Connection; rejects (after failing the attempt) when it does not get there. */
async function connect(attempt: P2PAttempt, peer: ShellPeer, inbox: ChannelInbox, untrusted: UntrustedReport): Promise<PeerSession> {
  const { pc, dc } = peer;
  const keys = attempt.keys;
  let fingerprints: ChannelFingerprints | undefined;
  // Bound before any frame: the agent's first message on it must prove it holds the link key on this very DTLS association.
  const bind = (c: DataChannelLike) =>
    bindDataChannel(c, async () => {
      const k = await keys!;
      fingerprints = await channelFingerprints(pc);
      const [own, expected] = await Promise.all([bindingProof(k, 'viewer', fingerprints), bindingProof(k, 'agent', fingerprints)]);
      return { own, expected };
    }).then((bound) => {
      mark('bound');
      return bound;
    });
  // The Connection is made on open: its HELLO would be dropped on a channel still connecting.
  // What the agent announced (its cap, in its answer): the SCTP transport's negotiated size where the browser has it, else the answer's SDP.
  const connectOver = (bound: DataChannelLike) => {
    const remoteMax = pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc.remoteDescription?.sdp ?? '');
    return connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax) });
  };
  // A channel that got more than its inbox holds before this listened cannot go on.
  if (inbox.overflowed) {
    attempt.lost('ice-failed', 'the data channel received more than it holds before client.js listened');
    throw new Error('overflowed');
  }
  let conn: Connection;
  try {
    // Held messages first, before any the channel gets from now on.
    conn = await readyConnection(replayingChannel(dc, inbox.messages), { ...(keys ? { bind } : {}), connect: connectOver });
  } catch (err) {
    if (!(err instanceof BindingError)) attempt.lost('ice-failed', attempt.settled ? 'channel closed' : 'the data channel closed while connecting');
    else {
      if (err.refused) untrusted('channel-binding', err.message);
      attempt.lost('unverified', `channel binding failed: ${err.message}`);
    }
    throw err;
  }
  if (attempt.closed || conn.isClosed) {
    if (attempt.closed) conn.close();
    else attempt.lost('ice-failed', 'channel closed');
    throw new Error('channel closed');
  }
  // The channel gone ends the session (p2p.ts falls back to the relay and retries).
  conn.on('close', (error) => attempt.lost('ice-failed', error ? `channel closed: ${error.message}` : 'channel closed'));
  return session(attempt, conn, peer, attempt.ready(conn), fingerprints);
}

export type PeerSession = ReturnType<typeof session>;

/** The session over the ready channel (`connectMs`: from the start of the attempt to the protocol HELLO received). */
function session(attempt: P2PAttempt, conn: Connection, peer: ShellPeer, connectMs: number, fingerprints: ChannelFingerprints | undefined) {
  let measured: Promise<LossProbeResult | undefined> | undefined;
  return {
    /** The channel's connection: every stream goes on it, and the heartbeat (RTT, liveness) runs on it. */
    connection: conn,
    /** The data channel (tests close it to simulate a network failure). */
    channel: peer.dc,
    viewerId: attempt.viewerId,
    connectMs,
    /** The channel ends at the holder of the link key (MACed signaling and channel binding passed). */
    verified: attempt.keys !== undefined && fingerprints !== undefined,
    /** The fingerprints the binding covered (verified channels). */
    ...(fingerprints ? { fingerprints } : {}),
    /** Closes everything (bye to the agent). Idempotent. */
    close: (reason: string) => attempt.close(reason),
    /** The peer connection's getStats() (the diagnostics page reads the selected pair's types and the byte counts). */
    stats: (): Promise<RTCStatsReport | undefined> => (!attempt.closed ? peer.pc.getStats() : Promise.resolve(undefined)),
    /** The server turned the loss probe off for this session (the hello's p2p.lossProbe is false). */
    lossProbeOff: !attempt.lossProbeOn,
    /** The speed mechanisms the server switched off (the hello's p2p settings that are false), for the Service Worker. */
    switchedOff: attempt.switchedOff,
    /**
     * The loss probe (docs/PROTOCOL.md §Loss probe), run once per session: undefined without a probe channel or
     * with the probe off. Its events come before it ends: `onLossy` at once, `onEarlyClean` once enough came back.
     */
    lossProbe: (events: Pick<LossProbeOptions, 'onLossy' | 'onEarlyClean'> = {}) => {
      measured ??= peer.probe && attempt.lossProbeOn && !attempt.closed ? runLossProbe(peer.probe, events) : Promise.resolve(undefined);
      return measured;
    },
    /** Called once when the channel is gone (closed by either side, or failed). */
    onClosed: (fn: (reason: string) => void) => attempt.onClosed(fn),
    /** Tells the agent (through the server) the channel's first RTT: metrics. */
    reportRtt: (rttMs: number) => attempt.send({ type: 'connection-state', state: 'connected', rttMs }),
  };
}
