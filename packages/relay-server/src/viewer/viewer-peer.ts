/**
 * One peer connection of the Node viewer (p2p-viewer.ts): made with its data
 * channels, offered (tagged with its `pc`), each channel bound when the
 * viewer holds the link key and joined into the viewer's pool once all are up.
 */
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  ConnectionPool,
  DATA_CHANNEL_LABEL,
  dataChannelMessageBytes,
  joinPool,
  maxMessageSizeFromSdp,
  protocolError,
  sdpFingerprint,
  tagged,
  TailProbeGroup,
  type ChannelFingerprints,
  type Connection,
  type DataChannelLike,
  type P2PSettings,
  type TrustKeys,
  type ViewerSignal,
} from '@wingman/protocol';
import { createPeerConnection, type RtcDataChannel, type RtcPeerConnection } from '../p2p/webrtc';

/** One of the viewer's peer connections and its signaling state. */
export interface Striped {
  index: number;
  pc: RtcPeerConnection;
  dcs: RtcDataChannel[];
  /** Its ready connections. */
  own: Connection[];
  answered: boolean;
  pendingCandidates: Array<{ candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }>;
  closed: boolean;
  /** Settles once it is up (every channel ready or, all but the first, refused) or failed. */
  up?: Promise<boolean>;
}

/** What a peer connection's set-up uses of the viewer it belongs to. */
export interface PeerAttempt {
  keys: Promise<TrustKeys> | undefined;
  pool: ConnectionPool;
  peerOfConnection: Map<Connection, number>;
  fingerprintsOf: Map<Striped, ChannelFingerprints>;
  send(m: ViewerSignal): void;
  /** The peer connection failed or closed: its channels leave the pool; the last one ends it all. */
  dropPeer(p: Striped, err: Error): void;
}

/** Makes peer connection `index` with its `channels` data channels and offers it (tagged `pc`). */
export function startPeer(attempt: PeerAttempt, p2p: P2PSettings, index: number, channels: number): Striped {
  const { send, dropPeer, keys, pool, peerOfConnection, fingerprintsOf } = attempt;
  const pc = createPeerConnection({ iceServers: p2p.iceServers });
  const p: Striped = { index, pc, dcs: [], own: [], answered: false, pendingCandidates: [], closed: false };
  for (let i = 0; i < channels; i++) p.dcs.push(pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true }));
  pc.onicecandidate = (ev) => {
    if (p.closed) return;
    if (!ev.candidate) return send(tagged({ type: 'end-of-candidates' }, index));
    const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
    if (c.candidate)
      send(tagged({ type: 'ice-candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } }, index));
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') dropPeer(p, protocolError('ERR_CONNECTION_LOST', 'ICE failed'));
  };
  /** This end's proof and the agent's expected one, from the two descriptions (the agent's came MACed). */
  const proofs = async (k: TrustKeys) => {
    const agent = sdpFingerprint(pc.remoteDescription?.sdp ?? '');
    const viewer = sdpFingerprint(pc.localDescription?.sdp ?? '');
    if (!agent || !viewer) throw new Error('a description has no sha-256 fingerprint');
    fingerprintsOf.set(p, { agent, viewer });
    const [own, expected] = await Promise.all([bindingProof(k, 'viewer', { agent, viewer }), bindingProof(k, 'agent', { agent, viewer })]);
    return { own, expected };
  };
  // One SCTP association per peer connection: its channels share their tail-loss probes.
  const tailProbes = new TailProbeGroup();
  const connect = (bound: DataChannelLike) => {
    const remoteMax = pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc.remoteDescription?.sdp ?? '');
    const conn = connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax), tailProbes });
    // One channel gone is its peer connection gone: the others of it close too.
    conn.on('close', () => dropPeer(p, protocolError('ERR_CONNECTION_LOST', 'a data channel closed')));
    return conn;
  };
  // Joined into a pool of its own first: the viewer's pool takes them once the peer connection is up.
  const own = new ConnectionPool();
  const joined = p.dcs.map((dc, i) =>
    joinPool(dc, own, { ...(keys ? { bind: (c: DataChannelLike) => bindDataChannel(c, () => keys.then(proofs)) } : {}), connect }).catch((err: Error) => {
      if (i === 0 || err instanceof BindingError) throw err;
    }),
  );
  p.up = Promise.all(joined).then(
    (conns) => {
      if (p.closed) return false;
      p.own = conns.filter((c): c is Connection => c !== undefined);
      for (const c of p.own) {
        peerOfConnection.set(c, index);
        pool.add(c);
      }
      return true;
    },
    (err: Error) => {
      dropPeer(p, protocolError('ERR_CONNECTION_LOST', err instanceof BindingError ? `channel binding failed: ${err.message}` : err.message));
      return false;
    },
  );
  void (async () => {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send(tagged({ type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp }, index));
  })().catch((err: Error) => dropPeer(p, err));
  return p;
}
