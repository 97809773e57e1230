/** What the shell sends on the signaling WebSocket about its own side of the peer connection (attempt.ts). */
import {
  deriveTrustKeys,
  isMacedType,
  linkKeyBytes,
  sessionIdOfHost,
  SIGNAL_PATH,
  signalMac,
  type MacedSignal,
  type TrustKeys,
  type ViewerSignal,
} from '@wingman/protocol';

/** The signaling WebSocket's URL on this session origin. */
export function signalUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${SIGNAL_PATH}`;
}

/** A peer connection's configuration from the hello's ICE servers (only the fields WebRTC knows). */
export function rtcConfiguration(iceServers: readonly RTCIceServer[]): RTCConfiguration {
  return {
    iceServers: iceServers.map((s) => ({
      urls: s.urls,
      ...(s.username ? { username: s.username } : {}),
      ...(s.credential ? { credential: s.credential } : {}),
    })),
  };
}

/** The message for one of the browser's own ICE candidates: end of candidates for null, nothing for an empty one. */
export function candidateSignal(candidate: RTCIceCandidate | null): ViewerSignal | undefined {
  if (!candidate) return { type: 'end-of-candidates' };
  const c = candidate.toJSON();
  if (!c.candidate) return undefined;
  return { type: 'ice-candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } };
}

/** The link key's signaling keys for this session origin, or undefined without a key. */
export function linkTrustKeys(linkKey: string | undefined): Promise<TrustKeys> | undefined {
  const bytes = linkKey !== undefined ? linkKeyBytes(linkKey) : undefined;
  if (!bytes) return undefined;
  const keys = deriveTrustKeys(bytes, sessionIdOfHost(location.hostname));
  keys.catch(() => undefined);
  return keys;
}

/**
 * The shell's signaling out on `ws`, in order (a MAC takes a promise, and the offer must leave before its
 * candidates), MACed when the shell holds the link key. `viewerId`: the hello's, read when a message is MACed.
 */
export function signalSender(ws: WebSocket, keys: Promise<TrustKeys> | undefined, viewerId: () => string): (m: ViewerSignal) => void {
  let pending = 0;
  let tail = Promise.resolve();
  return (m) => {
    // Nothing to sign and nothing waiting: at once (a bye right before the socket closes still leaves).
    if (pending === 0 && !(keys && isMacedType(m.type))) {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
      return;
    }
    pending++;
    tail = tail
      .then(async () => {
        const k = keys && isMacedType(m.type) ? await keys : undefined;
        const out = k ? { ...m, mac: await signalMac(k, 'viewer', viewerId(), m as MacedSignal) } : m;
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(out));
      })
      .catch(() => undefined)
      .finally(() => void pending--);
  };
}
