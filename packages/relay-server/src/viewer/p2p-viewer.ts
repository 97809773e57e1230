/**
 * A Node viewer that reaches a session's agent peer-to-peer (tests,
 * benchmarks, `wingman fetch`). With the link key it verifies as the browser
 * shell does: MACed signaling, then the channel binding (docs/PROTOCOL.md §Verified channels).
 */
import { once } from 'node:events';
import type { Agent } from 'node:http';
import WebSocket from 'ws';
import {
  deriveTrustKeys,
  isMacedType,
  LINK_TOKEN_HEADER,
  linkKeyBytes,
  sessionIdOfHost,
  signalMac,
  signalMacValid,
  splitLinkKey,
  type HostSignal,
  type MacedSignal,
  type TrustKeys,
  type ViewerSignal,
  parseHostSignal,
  parseSignalHello,
  peerGone,
  protocolError,
  SIGNAL_PATH,
  type P2PSettings,
} from '@wingman/protocol';
import { linkTokenOf } from '../agent/link-verifier';
import { closePeer } from '../p2p/webrtc';
import { iceCandidateNotAdded } from '../p2p/ice-trace';
import { localhostLookup } from './localhost-lookup';
import { closePeerQuietly, startPeer, type ViewerPeer } from './viewer-peer';

const VIEWER_CONNECT_TIMEOUT_MS = 15_000;

/** How long `leave()` waits for the signaling socket to close after the bye (a loopback close takes a few ms). */
const VIEWER_LEAVE_WAIT_MS = 1_000;

export interface P2PViewerOptions {
  /** The session URL, e.g. http://<id>.localhost:8080/ */
  url: string;
  /** Deadline for the channel to open, ms. */
  timeoutMs?: number;
  /** The viewer password, sent as HTTP Basic credentials when signaling. */
  password?: string;
  /** A `Cookie` header for signaling (the viewer cookie). */
  cookie?: string;
  /** Default: the one in `url`'s fragment (`#k=…`); without one the channel is unverified. */
  linkKey?: string;
  /** The signaling connection's `http.Agent`: a proxy's (`wingman fetch` behind one). */
  agent?: Agent;
}

/** A viewer's credentials: the password as HTTP Basic (RFC 7617, any user name), the viewer cookie, the link's access token (docs/PROTOCOL.md §Link access). */
export function viewerHeaders(password: string | undefined, linkKey: string | undefined, cookie?: string): Record<string, string> {
  return {
    ...(password !== undefined ? { authorization: `Basic ${Buffer.from(`:${password}`, 'utf8').toString('base64')}` } : {}),
    ...(cookie !== undefined ? { cookie } : {}),
    ...(linkKey !== undefined ? { [LINK_TOKEN_HEADER]: linkTokenOf(linkKey) } : {}),
  };
}

type P2PViewer = ReturnType<typeof viewerOf>;

/** Rejects with a coded error (ERR_P2P_DISABLED, ERR_TIMEOUT, …). */
export function connectP2PViewer(options: P2PViewerOptions): Promise<P2PViewer> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? VIEWER_CONNECT_TIMEOUT_MS;
  const base = new URL(options.url);
  const signalUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${SIGNAL_PATH}`;
  const keyText = options.linkKey ?? splitLinkKey(base.hash).key;
  const keyBytes = keyText !== undefined ? linkKeyBytes(keyText) : undefined;
  if (keyText !== undefined && !keyBytes) return Promise.reject(protocolError('ERR_INVALID_PAYLOAD', 'the link key is not 22 base64url characters'));
  const keys: Promise<TrustKeys> | undefined = keyBytes ? deriveTrustKeys(keyBytes, sessionIdOfHost(base.hostname)) : undefined;

  return new Promise<P2PViewer>((resolve, reject) => {
    let peer: ViewerPeer | undefined;
    /** Ends the channel's connection without a GOAWAY: the agent may be dropping the channel, and a send then can crash wrtc (closePeerQuietly). */
    const abandon = () => peer?.connection?.abandon();
    let settled = false;
    const ws = new WebSocket(signalUrl, {
      lookup: localhostLookup,
      maxPayload: 64 * 1024,
      headers: viewerHeaders(options.password, keyText, options.cookie),
      ...(options.agent ? { agent: options.agent } : {}),
    });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.close();
      abandon();
      if (peer) closePeerQuietly(peer);
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
    /** Out in order, MACed with the link key (a MAC is asynchronous). */
    let outbound = Promise.resolve();
    const send = (m: ViewerSignal) => {
      outbound = outbound
        .then(async () => {
          const k = keys && hello && isMacedType(m.type) ? await keys : undefined;
          const out = k ? { ...m, mac: await signalMac(k, 'viewer', hello!.viewerId, m as MacedSignal) } : m;
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(out));
        })
        .catch(fail);
    };
    /** In, in order; with the link key, a maced type without a valid MAC is dropped. */
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
      // After a hello that started no peer connection (P2P off), nothing more is read.
      if (isBinary || (hello && !peer)) return;
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
          peer = startPeer(h.p2p, keys, { send, ready: opened, lost });
          return;
        }
        receive(parseHostSignal(text), onSignal);
      } catch (err) {
        fail(err as Error);
      }
    });

    /** Before the viewer connected it fails, after it ends. */
    function lost(err: Error): void {
      if (!peer || peer.closed) return;
      peer.closed = true;
      // No GOAWAY: see abandon.
      abandon();
      closePeerQuietly(peer);
      if (!settled) return fail(err);
      ws.close();
    }

    function onSignal(m: HostSignal<string>): void {
      // A bye after connecting (the server's when the agent's relay link drops, the agent's when its P2P host died): the channel judges (peer-gone.ts).
      if (m.type === 'bye' && settled && peer) {
        const why = new Error(`agent said bye: ${m.reason ?? ''}`);
        if (peer.connection) void peerGone(peer.connection).then((gone) => gone && lost(why));
        return;
      }
      const p = peer;
      if (!p || p.closed) return;
      const pc = p.pc;
      switch (m.type) {
        case 'answer':
          void pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(
            async () => {
              p.answered = true;
              for (const c of p.pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
            },
            (err: Error) => lost(err),
          );
          return;
        case 'ice-candidate':
          if (p.answered) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded(hello?.viewerId ?? '?'));
          else if (p.pendingCandidates.length < 64) p.pendingCandidates.push(m.candidate);
          return;
        case 'error':
          // After connecting, an error says no more signaling (ERR_SIGNALING_QUOTA), not that the channel is gone.
          if (settled) return;
          return lost(new Error(`${m.code}: ${m.message}`));
        case 'bye':
          // Before connecting: the server's (the agent's relay link dropped) or the agent's.
          return lost(new Error(`agent said bye: ${m.reason ?? ''}`));
        default:
          return;
      }
    }

    function opened(p: ViewerPeer): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(viewerOf({ peer: p, ws, send, droppedSignals: () => droppedSignals }, hello!, keys !== undefined, started));
    }
  });
}

interface ViewerAttempt {
  peer: ViewerPeer;
  ws: WebSocket;
  send(m: ViewerSignal): void;
  droppedSignals(): number;
}

/** Once the channel is ready: it tells the agent it connected. */
function viewerOf(attempt: ViewerAttempt, hello: { viewerId: string; p2p: P2PSettings }, verified: boolean, started: number) {
  const { peer, ws, send } = attempt;
  const connectMs = Date.now() - started;
  send({ type: 'connection-state', state: 'connected', connectMs });
  const { fingerprints } = peer;
  const bye = () => {
    send({ type: 'bye', reason: 'viewer closed' });
    peer.closed = true;
    peer.connection?.abandon();
    ws.close();
  };
  return {
    connection: peer.connection!,
    viewerId: hello.viewerId,
    p2p: hello.p2p,
    connectMs,
    // Tests watch what it carries, and read the peer connection's descriptions and stats.
    channel: peer.dc,
    peerConnection: peer.pc,
    /** Signaling MACs and channel binding passed. */
    verified,
    ...(fingerprints ? { fingerprints } : {}),
    /** Signaling messages dropped for a missing or wrong MAC. */
    get droppedSignals() {
      return attempt.droppedSignals();
    },
    close() {
      bye();
      closePeer(peer.pc, peer.dc);
    },
    /**
     * Bye, then the connection ended without a frame and signaling closed; the peer connection is left to the process's
     * exit (`wingman fetch`), where tearing it down could crash it. Resolves once signaling closed, or after VIEWER_LEAVE_WAIT_MS.
     */
    async leave() {
      const gone = ws.readyState === WebSocket.CLOSED ? undefined : once(ws, 'close', { signal: AbortSignal.timeout(VIEWER_LEAVE_WAIT_MS) });
      bye();
      await gone?.catch(() => undefined);
    },
  };
}
