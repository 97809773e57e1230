/**
 * The early P2P attempt of the shell's inline script (shell-inline.ts): the
 * signaling WebSocket at once, and on the server's hello the
 * RTCPeerConnection, its data channel and the offer, with the browser's
 * candidates trickled as they come. It keeps every signaling message that
 * arrives and applies none: client.js takes the attempt over
 * (early-attempt.ts) and replays them through its own handlers, so the
 * channel opens only once it runs. Why it starts before client.js:
 * docs/browser-client.md §Decision.
 */
import { DATA_CHANNEL_LABEL, type ViewerSignal } from '@wingman/protocol';
import type { EarlyAttemptHandover } from './shell-handover';
import { candidateSignal, rtcConfiguration, signalUrl } from './signal-out';

/**
 * The ICE servers of a hello that enables P2P, else undefined. Only the
 * shape needed to make the peer connection is checked here; client.js
 * validates the hello in full when it replays it.
 */
function enabledIceServers(text: unknown): RTCIceServer[] | undefined {
  if (typeof text !== 'string') return undefined;
  let hello: unknown;
  try {
    hello = JSON.parse(text);
  } catch {
    return undefined;
  }
  const p2p = typeof hello === 'object' && hello !== null && (hello as { type?: unknown }).type === 'hello' ? (hello as { p2p?: unknown }).p2p : undefined;
  if (typeof p2p !== 'object' || p2p === null) return undefined;
  const { enabled, iceServers } = p2p as { enabled?: unknown; iceServers?: unknown };
  return enabled === true && Array.isArray(iceServers) ? (iceServers as RTCIceServer[]) : undefined;
}

/** Starts the attempt and returns what client.js takes over. */
export function startEarlyAttempt(): EarlyAttemptHandover {
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    if (!(name in marks)) marks[name] = performance.now();
  };
  mark('attempt');
  const ws = new WebSocket(signalUrl());
  const attempt: EarlyAttemptHandover = { ws, messages: [], marks };
  const send = (m: ViewerSignal) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };
  ws.onopen = () => mark('signal-open');
  ws.onmessage = (ev: MessageEvent) => {
    attempt.messages.push(ev.data);
    // Only the first message can be the hello.
    if (attempt.messages.length > 1) return;
    const iceServers = enabledIceServers(ev.data);
    if (!iceServers) return;
    mark('hello');
    let pc: RTCPeerConnection | undefined;
    let dc: RTCDataChannel;
    try {
      pc = new RTCPeerConnection(rtcConfiguration(iceServers));
      dc = pc.createDataChannel(DATA_CHANNEL_LABEL, { ordered: true });
    } catch {
      pc?.close();
      return;
    }
    const peer = pc;
    peer.onicecandidate = (e) => {
      const m = candidateSignal(e.candidate);
      if (m) send(m);
    };
    const offered = peer
      .createOffer()
      .then((offer) => peer.setLocalDescription(offer))
      .then(() => {
        ws.send(JSON.stringify({ type: 'offer', sdp: peer.localDescription?.sdp ?? '' } satisfies ViewerSignal));
        mark('offer');
      });
    // client.js reports a failed offer when it takes over; until then nobody awaits it.
    offered.catch(() => undefined);
    attempt.peer = { pc: peer, dc, offered };
  };
  return attempt;
}
