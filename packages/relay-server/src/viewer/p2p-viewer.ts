/**
 * A Node viewer that reaches a session's agent peer-to-peer: signaling over
 * the session origin's SIGNAL_PATH, a wrtc peer connection that offers a pool
 * of data channels (transports/channel-pool.ts), or several peer connections
 * it stripes the pool over (signaled in parallel on the one socket, each
 * named by its `pc`), then protocol streams over them, each new stream on the
 * least busy channel (`pick()`). Used by tests, benchmarks and
 * `wingman fetch`. With the link key (the link's `#k=`), it verifies as the
 * browser shell does (docs/PROTOCOL.md §Verified channels): MACed signaling
 * both ways, then the channel binding before any protocol frame.
 */
import WebSocket from 'ws';
import {
  ConnectionPool,
  channelsOfPeerConnection,
  DEFAULT_P2P_CHANNELS,
  p2pChannelCount,
  p2pPeerConnectionCount,
  peerIndex,
  tagged,
  deriveTrustKeys,
  isMacedType,
  LINK_TOKEN_HEADER,
  linkKeyBytes,
  sessionIdOfHost,
  signalMac,
  signalMacValid,
  splitLinkKey,
  type ChannelFingerprints,
  type HostSignal,
  type MacedSignal,
  type TrustKeys,
  type ViewerSignal,
  parseHostSignal,
  parseSignalHello,
  peerGone,
  protocolError,
  SIGNAL_PATH,
  type Connection,
  type P2PSettings,
} from '@wingman/protocol';
import { linkTokenOf } from '../agent/link-verifier';
import { closePeer, type RtcDataChannel, type RtcPeerConnection } from '../p2p/webrtc';
import { iceCandidateNotAdded } from '../p2p/ice-debug';
import { localhostLookup } from './localhost-lookup';
import { startPeer, type PeerAttempt, type Striped } from './viewer-peer';

/** Default deadline for signaling + ICE + channel open, ms. */
export const VIEWER_CONNECT_TIMEOUT_MS = 15_000;

/** How long `leave()` waits for the signaling socket to close after the viewer's bye, ms (a loopback close takes a few ms). */
const VIEWER_LEAVE_WAIT_MS = 1_000;

export interface P2PViewerOptions {
  /** The session URL, e.g. http://<id>.localhost:8080/ */
  url: string;
  /** Deadline for the channel to open, ms. Default VIEWER_CONNECT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The session's viewer password (`wingman http --password`), sent as HTTP Basic credentials when signaling. */
  password?: string;
  /** A `Cookie` header for the signaling request (the session's viewer cookie: who this viewer is). */
  cookie?: string;
  /** The link key; default: the one in `url`'s fragment (`#k=…`), if any. Without one the channel is unverified. */
  linkKey?: string;
  /** Data channels to open in all, spread over the peer connections (1 … MAX_P2P_CHANNELS). Default DEFAULT_P2P_CHANNELS. */
  channels?: number;
  /**
   * Peer connections to stripe the channels over (1 … MAX_P2P_PEER_CONNECTIONS).
   * Default 1, whatever the hello's `p2p.peerConnections` (the browser's
   * setting): striping speeds up a page load's burst, and this viewer's users
   * (`wingman fetch`, tests, benchmarks) make one request or choose.
   */
  peerConnections?: number;
}

/** `Authorization` value for a session's viewer password (RFC 7617; the user name is ignored). */
export function basicAuthorization(password: string): string {
  return `Basic ${Buffer.from(`:${password}`, 'utf8').toString('base64')}`;
}

export interface P2PViewer {
  /** The first channel's connection (it carries nothing special; tests and benchmarks that want one channel use it). */
  readonly connection: Connection;
  /**
   * Every ready connection of the pool (`channels`, less any the agent
   * refused, and those of a peer connection that closed or is not up yet):
   * the first peer connection's in the order of their channels, then the
   * others' as they became ready.
   */
  readonly connections: readonly Connection[];
  /** Which peer connection (its `pc`) a connection of the pool runs on. */
  peerOf(connection: Connection): number | undefined;
  /** Settles once every peer connection is up or failed (the viewer resolved with the first). */
  readonly allSettled: Promise<void>;
  /** Every peer connection, by `pc`. */
  readonly peerConnections: readonly RtcPeerConnection[];
  /** Every raw data channel of peer connection `pc`, the first one first. */
  channelsOf(pc: number): readonly RtcDataChannel[];
  /** Closes peer connection `pc` alone (its channels leave the pool; bye to the agent for it). */
  closePeerConnection(pc: number): void;
  /** The connection a new stream should go on: the ready one with the fewest open streams. */
  pick(): Connection;
  readonly viewerId: string;
  readonly p2p: P2PSettings;
  /** Time from start to open data channel, ms. */
  readonly connectMs: number;
  /** The first raw data channel of the first peer connection up (benchmarks compare against it). */
  readonly channel: RtcDataChannel;
  /** Every raw data channel of that peer connection, the first one first (some may have been refused). */
  readonly channels: readonly RtcDataChannel[];
  /** The first peer connection up (stats: the selected candidate pair; benchmarks open extra channels on it). */
  readonly peerConnection: RtcPeerConnection;
  /** The channel ends at the holder of the link key (signaling MACs and channel binding passed). */
  readonly verified: boolean;
  /** The DTLS fingerprints the binding covered (verified channels only). */
  readonly fingerprints?: ChannelFingerprints;
  /** Signaling messages dropped for a missing or wrong MAC. */
  readonly droppedSignals: number;
  close(): void;
  /**
   * Says goodbye (the agent closes its side) and ends the protocol
   * connections (without a frame on the channels) and signaling, but leaves the wrtc peer connection to the
   * process's exit: for a process that ends right after (`wingman fetch`),
   * where tearing it down could crash it. Resolves once the signaling socket
   * has closed (the bye went out before its close frame), or after
   * VIEWER_LEAVE_WAIT_MS: not on the agent's closing of the data channel, whose
   * handling inside @roamhq/wrtc is itself a teardown that can crash.
   */
  leave(): Promise<void>;
}

/** Connects P2P; rejects with a coded error (ERR_P2P_DISABLED, ERR_TIMEOUT, …) when it cannot. */
export function connectP2PViewer(options: P2PViewerOptions): Promise<P2PViewer> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? VIEWER_CONNECT_TIMEOUT_MS;
  const base = new URL(options.url);
  const signalUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${SIGNAL_PATH}`;
  const keyText = options.linkKey ?? splitLinkKey(base.hash).key;
  const keyBytes = keyText !== undefined ? linkKeyBytes(keyText) : undefined;
  if (keyText !== undefined && !keyBytes) return Promise.reject(protocolError('ERR_INVALID_PAYLOAD', 'the link key is not 22 base64url characters'));
  const keys: Promise<TrustKeys> | undefined = keyBytes ? deriveTrustKeys(keyBytes, sessionIdOfHost(base.hostname)) : undefined;

  const channelCount = p2pChannelCount(options.channels ?? DEFAULT_P2P_CHANNELS);
  return new Promise<P2PViewer>((resolve, reject) => {
    const peers: Striped[] = [];
    const pool = new ConnectionPool();
    const peerOfConnection = new Map<Connection, number>();
    /**
     * Ends every channel's connection without a GOAWAY. The viewer never sends
     * on a channel it is closing: the agent learns of the close from the bye
     * on signaling or from the peer connection's own close, and may be
     * tearing the channel down already (a revocation, its own exit), when a
     * send that races the teardown crashes the process inside @roamhq/wrtc
     * (SIGSEGV in RTCDataChannel::Send; the channel still reads 'open'). Seen
     * in about 1 run in 8 of a test closing a revoked viewer, and 1 in 25 of a
     * viewer leaving on a loaded machine.
     */
    const abandonAll = () => {
      for (const c of pool.connections.slice()) c.abandon();
    };
    let settled = false;
    const headers = signalingHeaders(options, keyText, keyBytes);
    const ws = new WebSocket(signalUrl, { lookup: localhostLookup, maxPayload: 64 * 1024, ...(headers ? { headers } : {}) });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      abandonAll();
      for (const p of peers) closePeer(p.pc, p.dcs);
      reject(err);
    };
    let droppedSignals = 0;
    const timer = setTimeout(
      () =>
        fail(
          protocolError(
            'ERR_TIMEOUT',
            `no data channel within ${timeoutMs} ms${droppedSignals > 0 ? ` (${droppedSignals} signaling message(s) dropped for a missing or wrong MAC: the tunnel server or its path altered them)` : ''}`,
          ),
        ),
      timeoutMs,
    );
    const sendNow = (m: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
    };
    /** Signaling out in order, MACed with the link key (computing a MAC is asynchronous). */
    let outbound = Promise.resolve();
    const send = (m: ViewerSignal) => {
      outbound = outbound
        .then(async () => {
          const k = keys && hello && isMacedType(m.type) ? await keys : undefined;
          sendNow(k ? { ...m, mac: await signalMac(k, 'viewer', hello!.viewerId, m as MacedSignal) } : m);
        })
        .catch(fail);
    };
    /** Signaling in, in order; with the link key, a maced type without a valid MAC is dropped. */
    let inbound = Promise.resolve();
    const receive = (m: HostSignal<string>, apply: (m: HostSignal<string>) => void) => {
      inbound = inbound
        .then(async () => {
          if (keys && isMacedType(m.type)) {
            const valid = await signalMacValid(await keys, 'agent', hello!.viewerId, m as MacedSignal, 'mac' in m ? m.mac : undefined);
            if (!valid) return void droppedSignals++;
          }
          apply(m);
        })
        .catch(fail);
    };
    let hello: { viewerId: string; p2p: P2PSettings } | undefined;

    ws.on('error', (err) => fail(err));
    ws.on('unexpected-response', (_req, res) => fail(new Error(`signaling refused: HTTP ${res.statusCode}`)));
    ws.on('close', () => {
      if (!hello) fail(new Error('signaling closed before hello'));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary || (settled && peers.length === 0)) return;
      const text = data.toString();
      try {
        if (!hello) {
          // The server refuses with an error (ERR_P2P_DISABLED, ERR_TOO_MANY_VIEWERS) instead of a hello.
          if (text.includes('"error"')) {
            const m = parseHostSignal(text);
            if (m.type === 'error') return fail(new Error(`${m.code}: ${m.message}`));
          }
          const h = parseSignalHello(text);
          hello = { viewerId: h.viewerId, p2p: h.p2p };
          if (!h.p2p.enabled) return fail(protocolError('ERR_GOING_AWAY', 'ERR_P2P_DISABLED: P2P is disabled for this session'));
          start(h.p2p);
          return;
        }
        if (peers.length === 0) return;
        receive(parseHostSignal(text), onSignal);
      } catch (err) {
        fail(err as Error);
      }
    });

    /** A peer connection of the viewer failed or closed: its channels leave the pool; the last one ends it all. */
    function dropPeer(p: Striped, err: Error): void {
      if (p.closed) return;
      p.closed = true;
      // No GOAWAY: one of its channels closed or failed, so the agent is tearing the peer connection
      // down, and a send racing that teardown crashes the process (@roamhq/wrtc, abandonAll).
      for (const c of p.own) {
        pool.remove(c);
        c.abandon();
      }
      closePeer(p.pc, p.dcs);
      if (peers.every((x) => x.closed)) {
        if (!settled) return fail(err);
        ws.close();
      }
    }

    function onSignal(m: HostSignal<string>): void {
      // After connecting, a bye that names no peer connection is about all of them.
      if (m.type === 'bye' && m.pc === undefined && settled) return byeAfterConnect(pool, peers, dropPeer, new Error(`agent said bye: ${m.reason ?? ''}`));
      const p = peers[peerIndex(m)];
      if (!p || p.closed) return;
      const pc = p.pc;
      switch (m.type) {
        case 'answer':
          void pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(
            async () => {
              p.answered = true;
              for (const c of p.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
            },
            (err: Error) => dropPeer(p, err),
          );
          return;
        case 'ice-candidate':
          if (p.answered) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
          else if (p.pendingCandidates.length < 64) p.pendingCandidates.push(m.candidate);
          return;
        case 'error':
          return dropPeer(p, new Error(`${m.code}: ${m.message}`));
        case 'bye':
          // For one peer connection (`pc`), or before connecting: the server's when the agent's relay link dropped.
          if (m.pc === undefined) return fail(new Error(`agent said bye: ${m.reason ?? ''}`));
          return dropPeer(p, new Error(`agent said bye: ${m.reason ?? ''}`));
        default:
          return;
      }
    }

    const attempt: ViewerAttempt = {
      keys,
      pool,
      peerOfConnection,
      fingerprintsOf: new Map<Striped, ChannelFingerprints>(),
      peers,
      ws,
      send,
      dropPeer,
      abandonAll,
      droppedSignals: () => droppedSignals,
    };

    /** The first peer connection up: the viewer resolves with it. */
    function opened(first: Striped, p2p: P2PSettings, allSettled: Promise<void>): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(viewerOf(attempt, first, p2p, allSettled, started, hello!.viewerId));
    }

    function start(p2p: P2PSettings): void {
      const count = p2pPeerConnectionCount(options.peerConnections ?? 1, 1);
      for (let i = 0; i < count; i++) peers.push(startPeer(attempt, p2p, i, channelsOfPeerConnection(channelCount, count, i)));
      const ups = peers.map((p) => p.up!);
      // The first peer connection up serves; the others join the pool as they come.
      for (const p of peers)
        void p.up!.then((ok) => {
          if (ok)
            opened(
              p,
              p2p,
              Promise.all(ups).then(() => undefined),
            );
        });
    }
  });
}

/**
 * The agent or the server said bye, naming no peer connection, after the
 * viewer connected: the channel is the judge (protocol peer-gone.ts), as in
 * the browser. The server says it when the agent's relay link drops, and the
 * channels outlive that link; the agent says it when its P2P host died, with
 * every peer connection of this viewer.
 */
function byeAfterConnect(pool: ConnectionPool, peers: readonly Striped[], dropPeer: (p: Striped, err: Error) => void, err: Error): void {
  const conn = pool.connections[0];
  if (conn) void peerGone(conn).then((gone) => gone && peers.forEach((p) => dropPeer(p, err)));
}

/** The signaling upgrade's headers: the viewer password, a cookie, the link's access token; undefined when none. */
function signalingHeaders(options: P2PViewerOptions, keyText: string | undefined, keyBytes: Uint8Array | undefined): Record<string, string> | undefined {
  if (options.password === undefined && options.cookie === undefined && keyBytes === undefined) return undefined;
  return {
    ...(options.password !== undefined ? { authorization: basicAuthorization(options.password) } : {}),
    ...(options.cookie !== undefined ? { cookie: options.cookie } : {}),
    // The link's access token (docs/PROTOCOL.md §Link access): a session shared by link opens its signaling only to it.
    ...(keyText !== undefined && keyBytes !== undefined ? { [LINK_TOKEN_HEADER]: linkTokenOf(keyText) } : {}),
  };
}

/** What the connected viewer keeps of the attempt that connected it. */
interface ViewerAttempt extends PeerAttempt {
  peers: Striped[];
  ws: WebSocket;
  /** Ends every channel's connection without a GOAWAY (see connectP2PViewer). */
  abandonAll(): void;
  droppedSignals(): number;
}

/** The viewer, once its first peer connection is up (`first`): it tells the agent it connected. */
function viewerOf(attempt: ViewerAttempt, first: Striped, p2p: P2PSettings, allSettled: Promise<void>, started: number, viewerId: string): P2PViewer {
  const { send, peers, pool, peerOfConnection, fingerprintsOf, ws, keys, abandonAll, dropPeer } = attempt;
  const connection = first.own[0]!;
  const channel = first.dcs[0]!;
  const connectMs = Date.now() - started;
  send({ type: 'connection-state', state: 'connected', connectMs });
  const fingerprints = fingerprintsOf.get(first);
  const closeAll = () => {
    for (const p of peers) p.closed = true;
    abandonAll();
    ws.close();
  };
  const bye = () => {
    for (const p of peers) send(tagged({ type: 'bye', reason: 'viewer closed' }, p.index));
  };
  return {
    connection,
    get connections() {
      return pool.connections;
    },
    pick: () => pool.pick() ?? connection,
    peerOf: (c) => peerOfConnection.get(c),
    allSettled,
    peerConnections: peers.map((p) => p.pc),
    channelsOf: (i) => peers[i]?.dcs ?? [],
    closePeerConnection(i) {
      const p = peers[i];
      if (!p || p.closed) return;
      send(tagged({ type: 'bye', reason: 'viewer closed this peer connection' }, i));
      dropPeer(p, new Error('closed by the viewer'));
    },
    viewerId,
    p2p,
    connectMs,
    channel,
    channels: first.dcs,
    peerConnection: first.pc,
    verified: keys !== undefined,
    ...(fingerprints ? { fingerprints } : {}),
    get droppedSignals() {
      return attempt.droppedSignals();
    },
    close() {
      bye();
      const all = peers.slice();
      closeAll();
      for (const p of all) closePeer(p.pc, p.dcs);
    },
    leave() {
      const gone = new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        const timer = setTimeout(resolve, VIEWER_LEAVE_WAIT_MS);
        ws.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      bye();
      for (const p of peers) p.closed = true;
      abandonAll();
      ws.close();
      return gone;
    },
  };
}
