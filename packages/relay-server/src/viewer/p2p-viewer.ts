/**
 * A Node viewer that reaches a session's agent peer-to-peer: signaling over
 * the session origin's SIGNAL_PATH, a wrtc peer connection that offers a pool
 * of data channels (transports/channel-pool.ts), then protocol streams over
 * them, each new stream on the least busy channel (`pick()`). Used by tests, benchmarks and
 * `wingman fetch`. With the link key (the link's `#k=`), it verifies as the
 * browser shell does (docs/PROTOCOL.md §Verified channels): MACed signaling
 * both ways, then the channel binding before any protocol frame.
 */
import WebSocket from 'ws';
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  ConnectionPool,
  DEFAULT_P2P_CHANNELS,
  joinPool,
  p2pChannelCount,
  deriveTrustKeys,
  isMacedType,
  linkKeyBytes,
  sdpFingerprint,
  sessionIdOfHost,
  signalMac,
  signalMacValid,
  splitLinkKey,
  type ChannelFingerprints,
  type DataChannelLike,
  type HostSignal,
  type MacedSignal,
  type TrustKeys,
  type ViewerSignal,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  DATA_CHANNEL_LABEL,
  parseHostSignal,
  parseSignalHello,
  protocolError,
  SIGNAL_PATH,
  type Connection,
  type P2PSettings,
} from '@wingman/protocol';
import { closePeer, createPeerConnection, type RtcDataChannel, type RtcPeerConnection } from '../p2p/webrtc';
import { iceCandidateNotAdded } from '../p2p/ice-debug';
import { localhostLookup } from './localhost-lookup';

/** Default deadline for signaling + ICE + channel open, ms. */
export const VIEWER_CONNECT_TIMEOUT_MS = 15_000;

/** How long `leave()` waits for the agent to close the channel after the viewer's bye, ms (a loopback close takes a few ms). */
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
  /** Data channels to open (1 … MAX_P2P_CHANNELS). Default DEFAULT_P2P_CHANNELS. */
  channels?: number;
}

/** `Authorization` value for a session's viewer password (RFC 7617; the user name is ignored). */
export function basicAuthorization(password: string): string {
  return `Basic ${Buffer.from(`:${password}`, 'utf8').toString('base64')}`;
}

export interface P2PViewer {
  /** The first channel's connection (it carries nothing special; tests and benchmarks that want one channel use it). */
  readonly connection: Connection;
  /** Every ready connection of the pool, in the order of their channels (`channels`, less any the agent refused). */
  readonly connections: readonly Connection[];
  /** The connection a new stream should go on: the ready one with the fewest open streams. */
  pick(): Connection;
  readonly viewerId: string;
  readonly p2p: P2PSettings;
  /** Time from start to open data channel, ms. */
  readonly connectMs: number;
  /** The first raw data channel (benchmarks compare against it). */
  readonly channel: RtcDataChannel;
  /** Every raw data channel offered, the first one first (some may have been refused). */
  readonly channels: readonly RtcDataChannel[];
  /** The peer connection (stats: the selected candidate pair; benchmarks open extra channels on it). */
  readonly peerConnection: RtcPeerConnection;
  /** The channel ends at the holder of the link key (signaling MACs and channel binding passed). */
  readonly verified: boolean;
  /** The DTLS fingerprints the binding covered (verified channels only). */
  readonly fingerprints?: ChannelFingerprints;
  /** Signaling messages dropped for a missing or wrong MAC. */
  readonly droppedSignals: number;
  close(): void;
  /**
   * Says goodbye (the agent closes its side) and closes the protocol
   * connection and signaling, but leaves the wrtc peer connection to the
   * process's exit: for a process that ends right after (`wingman fetch`),
   * where tearing it down could crash it. Resolves once the agent has closed
   * the data channel, or after VIEWER_LEAVE_WAIT_MS.
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
    let pc: RtcPeerConnection | undefined;
    const dcs: RtcDataChannel[] = [];
    const pool = new ConnectionPool();
    let settled = false;
    const headers =
      options.password !== undefined || options.cookie !== undefined
        ? {
            ...(options.password !== undefined ? { authorization: basicAuthorization(options.password) } : {}),
            ...(options.cookie !== undefined ? { cookie: options.cookie } : {}),
          }
        : undefined;
    const ws = new WebSocket(signalUrl, { lookup: localhostLookup, maxPayload: 64 * 1024, ...(headers ? { headers } : {}) });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      pool.close();
      if (pc) closePeer(pc, dcs);
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
    const pendingCandidates: Array<{ candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }> = [];
    let answered = false;

    ws.on('error', (err) => fail(err));
    ws.on('unexpected-response', (_req, res) => fail(new Error(`signaling refused: HTTP ${res.statusCode}`)));
    ws.on('close', () => {
      if (!hello) fail(new Error('signaling closed before hello'));
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary || (settled && !pc)) return;
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
          void start(h.p2p);
          return;
        }
        if (!pc) return;
        receive(parseHostSignal(text), onSignal);
      } catch (err) {
        fail(err as Error);
      }
    });

    function onSignal(m: HostSignal<string>): void {
      if (!pc) return;
      switch (m.type) {
        case 'answer':
          void pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(async () => {
            answered = true;
            for (const c of pendingCandidates.splice(0)) await pc!.addIceCandidate(c).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
          }, fail);
          return;
        case 'ice-candidate':
          if (answered) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
          else pendingCandidates.push(m.candidate);
          return;
        case 'error':
          return fail(new Error(`${m.code}: ${m.message}`));
        case 'bye':
          return fail(new Error(`agent said bye: ${m.reason ?? ''}`));
        default:
          return;
      }
    }

    async function start(p2p: P2PSettings): Promise<void> {
      pc = createPeerConnection({ iceServers: p2p.iceServers });
      for (let i = 0; i < channelCount; i++) dcs.push(pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true }));
      pc.onicecandidate = (ev) => {
        if (!ev.candidate) return send({ type: 'end-of-candidates' });
        const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
        if (c.candidate)
          send({ type: 'ice-candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } });
      };
      pc.onconnectionstatechange = () => {
        if (pc?.connectionState === 'failed') fail(protocolError('ERR_CONNECTION_LOST', 'ICE failed'));
      };
      let fingerprints: ChannelFingerprints | undefined;
      /** This end's proof and the agent's expected one, from the two descriptions (the agent's came MACed). */
      const proofs = async (k: TrustKeys) => {
        const agent = sdpFingerprint(pc?.remoteDescription?.sdp ?? '');
        const viewer = sdpFingerprint(pc?.localDescription?.sdp ?? '');
        if (!agent || !viewer) throw new Error('a description has no sha-256 fingerprint');
        fingerprints = { agent, viewer };
        const [own, expected] = await Promise.all([bindingProof(k, 'viewer', fingerprints), bindingProof(k, 'agent', fingerprints)]);
        return { own, expected };
      };
      const connect = (bound: DataChannelLike) => {
        const remoteMax = pc?.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc?.remoteDescription?.sdp ?? '');
        const conn = connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax) });
        // One channel gone is the peer connection gone: the others close too.
        conn.on('close', () => pool.close());
        return conn;
      };
      // Every channel ready, or (all but the first: an agent may serve fewer) closed before it was.
      const joined = dcs.map((dc, i) =>
        joinPool(dc, pool, { ...(keys ? { bind: (c: DataChannelLike) => bindDataChannel(c, () => keys.then(proofs)) } : {}), connect }).catch((err: Error) => {
          if (i === 0 || err instanceof BindingError) throw err;
        }),
      );
      Promise.all(joined).then(
        (conns) => opened(conns.filter((c): c is Connection => c !== undefined)),
        (err: Error) => fail(protocolError('ERR_CONNECTION_LOST', err instanceof BindingError ? `channel binding failed: ${err.message}` : err.message)),
      );
      const channel = dcs[0]!;
      /** `connections`: the ready ones, in the order of their channels. */
      const opened = (connections: Connection[]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const connection = connections[0]!;
        const connectMs = Date.now() - started;
        send({ type: 'connection-state', state: 'connected', connectMs });
        const closeAll = () => {
          pool.close();
          ws.close();
        };
        resolve({
          connection,
          connections,
          pick: () => pool.pick() ?? connection,
          viewerId: hello!.viewerId,
          p2p,
          connectMs,
          channel,
          channels: dcs,
          peerConnection: pc!,
          verified: keys !== undefined,
          ...(fingerprints ? { fingerprints } : {}),
          get droppedSignals() {
            return droppedSignals;
          },
          close() {
            send({ type: 'bye', reason: 'viewer closed' });
            closeAll();
            closePeer(pc!, dcs);
          },
          leave() {
            const gone = new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, VIEWER_LEAVE_WAIT_MS);
              channel.addEventListener('close', () => {
                clearTimeout(timer);
                resolve();
              });
            });
            send({ type: 'bye', reason: 'viewer closed' });
            closeAll();
            return gone;
          },
        });
      };
      try {
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        send({ type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp });
      } catch (err) {
        fail(err as Error);
      }
    }
  });
}
