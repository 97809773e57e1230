/**
 * The agent's answers and candidates, applied by the shell's inline script
 * as they arrive, so ICE, DTLS and SCTP run while client.js is still on its
 * way (on a first visit it is loaded only once the Service Worker controls
 * the shell: the answer waited 54–129 ms for it in the lab's far-server and
 * lossy-mobile cold visits). With the link key, a message is applied only
 * once its MAC proved it the agent's; nothing goes over a channel before
 * client.js has bound it (docs/PROTOCOL.md §Verified channels), and
 * client.js checks every message again when it replays them. Candidates
 * that come before their peer connection's answer wait for it, at most
 * MAX_PENDING_CANDIDATES each, as client.js's own handling does.
 */
import { signalMacValid, type MacedSignal, type TrustKeys } from '@wingman/protocol';

const MAX_PENDING_CANDIDATES = 64;

type Appliable = MacedSignal &
  ({ type: 'answer'; sdp: string } | { type: 'ice-candidate'; candidate: RTCIceCandidateInit & { candidate: string } }) & { mac?: string };

/**
 * An answer or a candidate, in the fields the MAC covers; anything else
 * undefined. Only the shape is read here (this script is in every shell
 * page): client.js validates each message in full when it replays it, and
 * the browser checks what it is given.
 */
function appliable(data: unknown): Appliable | undefined {
  let o: unknown;
  try {
    o = typeof data === 'string' ? JSON.parse(data) : undefined;
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null) return undefined;
  const { type, sdp, candidate, pc, mac } = o as Record<string, unknown>;
  if (pc !== undefined && !(Number.isSafeInteger(pc) && (pc as number) >= 0)) return undefined;
  const tag = { ...(pc !== undefined ? { pc: pc as number } : {}), ...(typeof mac === 'string' ? { mac } : {}) };
  if (type === 'answer' && typeof sdp === 'string') return { type, sdp, ...tag };
  if (type !== 'ice-candidate' || typeof candidate !== 'object' || candidate === null) return undefined;
  const c = candidate as Record<string, unknown>;
  const mid = c.sdpMid === undefined || c.sdpMid === null || typeof c.sdpMid === 'string';
  const line = c.sdpMLineIndex === undefined || c.sdpMLineIndex === null || Number.isSafeInteger(c.sdpMLineIndex);
  if (typeof c.candidate !== 'string' || !mid || !line) return undefined;
  const init = {
    candidate: c.candidate,
    sdpMid: (c.sdpMid as string | null | undefined) ?? null,
    sdpMLineIndex: (c.sdpMLineIndex as number | null | undefined) ?? null,
  };
  return { type, candidate: init, ...tag };
}

export interface EarlySignals {
  /** A signaling message after the hello, as it arrived (text). */
  take(data: unknown): void;
  /** Settles once every message taken so far was applied, dropped or refused. */
  applied(): Promise<void>;
}

/** The inline script's applier for peer connections `pcs` (by `pc`); `mark` records the first one's answer. */
export function earlySignals(
  pcs: readonly RTCPeerConnection[],
  keys: Promise<TrustKeys> | undefined,
  viewerId: string,
  mark: (name: string) => void,
): EarlySignals {
  const pending = pcs.map((): RTCIceCandidateInit[] => []);
  const answered = pcs.map(() => false);
  let tail = Promise.resolve();
  const apply = async (m: Appliable): Promise<void> => {
    const i = m.pc ?? 0;
    const pc = pcs[i];
    if (!pc) return;
    if (keys && !(await signalMacValid(await keys, 'agent', viewerId, m, m.mac))) return;
    if (m.type === 'answer') {
      if (answered[i]) return;
      answered[i] = true;
      await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
      if (i === 0) mark('answer');
      for (const c of pending[i]!.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
    } else if (answered[i]) await pc.addIceCandidate(m.candidate).catch(() => undefined);
    else if (pending[i]!.length < MAX_PENDING_CANDIDATES) pending[i]!.push(m.candidate);
  };
  return {
    take(data) {
      const m = appliable(data);
      if (!m) return; // not for this script (client.js reports a bad one when it replays it)
      // One at a time, in order: an answer before the candidates that follow it. A failure is client.js's to report.
      tail = tail.then(() => apply(m)).catch(() => undefined);
    },
    applied: () => tail,
  };
}
