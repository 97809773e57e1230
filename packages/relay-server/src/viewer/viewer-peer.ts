/** The Node viewer's peer connection (p2p-viewer.ts): offered with its data channel, bound with the link key, its connection once HELLO came. */
import {
  bindDataChannel,
  BindingError,
  connectionOverDataChannel,
  DATA_CHANNEL_LABEL,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  protocolError,
  readyConnection,
  type ChannelFingerprints,
  type Connection,
  type DataChannelLike,
  type IceCandidateInit,
  type P2PSettings,
  type TrustKeys,
  type ViewerSignal,
} from '@wingman/protocol';
import { PEER_CLOSE_GRACE_MS } from '../p2p/peer-host-options';
import { channelProofs, closePeer, createPeerConnection, type RtcDataChannel, type RtcPeerConnection } from '../p2p/webrtc';

export interface ViewerPeer {
  pc: RtcPeerConnection;
  dc: RtcDataChannel;
  answered: boolean;
  pendingCandidates: IceCandidateInit[];
  closed: boolean;
  /** Its channel's `close` event came (closePeerQuietly). */
  channelClosed: Promise<void>;
  /** Once the agent's HELLO came. */
  connection?: Connection;
  /** Verified channels. */
  fingerprints?: ChannelFingerprints;
}

interface PeerEvents {
  send(m: ViewerSignal): void;
  /** `peer.connection` is ready. */
  ready(peer: ViewerPeer): void;
  /** Failed, or its channel closed or failed its binding. */
  lost(err: Error): void;
}

export function startPeer(p2p: P2PSettings, keys: Promise<TrustKeys> | undefined, events: PeerEvents): ViewerPeer {
  const { send, lost } = events;
  const pc = createPeerConnection({ iceServers: p2p.iceServers });
  const dc = pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true });
  const channelClosed = new Promise<void>((resolve) => dc.addEventListener('close', () => resolve()));
  const p: ViewerPeer = { pc, dc, answered: false, pendingCandidates: [], closed: false, channelClosed };
  pc.onicecandidate = (ev) => {
    if (p.closed) return;
    if (!ev.candidate) return send({ type: 'end-of-candidates' });
    const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
    if (c.candidate) send({ type: 'ice-candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } });
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') lost(protocolError('ERR_CONNECTION_LOST', 'ICE failed'));
  };
  const proofs = async (k: TrustKeys) => {
    const proof = await channelProofs(pc, k, 'viewer');
    p.fingerprints = proof.fingerprints;
    return proof;
  };
  const connect = (bound: DataChannelLike) => {
    const remoteMax = pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc.remoteDescription?.sdp ?? '');
    const conn = connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax) });
    conn.on('close', () => lost(protocolError('ERR_CONNECTION_LOST', 'the data channel closed')));
    return conn;
  };
  readyConnection(dc, { ...(keys ? { bind: (c: DataChannelLike) => bindDataChannel(c, () => keys.then(proofs)) } : {}), connect }).then(
    (conn) => {
      if (p.closed) return;
      p.connection = conn;
      events.ready(p);
    },
    (err: Error) => lost(protocolError('ERR_CONNECTION_LOST', err instanceof BindingError ? `channel binding failed: ${err.message}` : err.message)),
  );
  void (async () => {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp });
  })().catch((err: Error) => lost(err));
  return p;
}

/**
 * Closes a peer once its channel's `close` event came, or after `graceMs`: @roamhq/wrtc drops a channel the agent
 * closed on its own thread, unlocked against a close()/send() from here (SIGSEGV); after the event both are no-ops.
 */
export function closePeerQuietly(p: ViewerPeer, graceMs = PEER_CLOSE_GRACE_MS): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)).unref?.());
  void Promise.race([p.channelClosed, grace]).then(() => (clearTimeout(timer), closePeer(p.pc, p.dc)));
}
