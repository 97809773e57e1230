/**
 * What the shell sends on the signaling WebSocket about its own side of the
 * peer connection, shared by the inline script's early attempt
 * (early-attempt-inline.ts) and client.js's attempts (peer-attempt.ts), so
 * both speak the same messages.
 */
import { SIGNAL_PATH, type ViewerSignal } from '@wingman/protocol';

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

/**
 * The message for one of the browser's own ICE candidates (`icecandidate`):
 * the candidate, or the end of candidates for null; undefined for an empty
 * candidate (nothing to send).
 */
export function candidateSignal(candidate: RTCIceCandidate | null): ViewerSignal | undefined {
  if (!candidate) return { type: 'end-of-candidates' };
  const c = candidate.toJSON();
  if (!c.candidate) return undefined;
  return { type: 'ice-candidate', candidate: { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } };
}
