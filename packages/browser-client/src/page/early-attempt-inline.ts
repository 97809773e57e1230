/**
 * The early P2P attempt of the shell's inline script (shell-inline.ts): the
 * signaling WebSocket at once, and on the server's hello the
 * RTCPeerConnection, its data channel and the offer, with the browser's
 * candidates trickled as they come. It keeps every signaling message that
 * arrives, and holds what the channel receives once it opens (the protocol's
 * transports/channel-inbox.ts): client.js takes the attempt over
 * (early-attempt.ts), applies the agent's answer and candidates among the
 * messages through its own checks, and delivers the channel's held messages
 * to its own handlers.
 * Why it starts before client.js: docs/browser-client.md §Decision.
 */
import { holdMessages, withListedFormatsOnly } from '@wingman/protocol';
import { createShellPeer, type ShellPeer } from './peer-connection';
import type { EarlyAttemptHandover } from './shell-handover';
import { candidateSignal, linkTrustKeys, signalSender, signalUrl } from './signal-out';

/**
 * The viewer id, ICE servers and video-section setting of a hello that enables P2P, else undefined.
 * Only the shape needed to make the peer connection is checked here;
 * client.js validates the hello in full when it replays it.
 */
function enabledHello(text: unknown): { viewerId: string; iceServers: RTCIceServer[]; videoSection: boolean } | undefined {
  if (typeof text !== 'string') return undefined;
  let hello: unknown;
  try {
    hello = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof hello !== 'object' || hello === null) return undefined;
  const { type, p2p, viewerId } = hello as { type?: unknown; p2p?: unknown; viewerId?: unknown };
  if (type !== 'hello' || typeof p2p !== 'object' || p2p === null || typeof viewerId !== 'string') return undefined;
  const { enabled, iceServers, videoSection } = p2p as { enabled?: unknown; iceServers?: unknown; videoSection?: unknown };
  return enabled === true && Array.isArray(iceServers)
    ? { viewerId, iceServers: iceServers as RTCIceServer[], videoSection: videoSection === true }
    : undefined;
}

/**
 * Starts the attempt and returns what client.js takes over. `linkKey`: the
 * link's key (MACed signaling), if it had one; `scriptStart`: when the
 * shell's inline script started (the `inline` mark).
 */
export function startEarlyAttempt(linkKey: string | undefined, scriptStart?: number): EarlyAttemptHandover {
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    if (!(name in marks)) marks[name] = performance.now();
  };
  if (scriptStart !== undefined) marks.inline = scriptStart;
  mark('attempt');
  const ws = new WebSocket(signalUrl());
  let viewerId = '';
  const keys = linkTrustKeys(linkKey);
  const sender = signalSender(ws, keys, () => viewerId);
  const attempt: EarlyAttemptHandover = { ws, messages: [], marks, sent: () => sender.sent };
  ws.onopen = () => mark('signal-open');
  /** When the answer arrived (client.js applies it: the `answer` mark). */
  const markAnswer = (data: unknown) => {
    if (typeof data !== 'string' || 'answer-in' in marks) return;
    try {
      const m = JSON.parse(data) as { type?: unknown };
      if (m.type === 'answer') mark('answer-in');
    } catch {
      /* client.js reports a bad message when it replays it */
    }
  };
  ws.onmessage = (ev: MessageEvent) => {
    attempt.messages.push(ev.data);
    // Only the first message can be the hello.
    if (attempt.messages.length > 1) return markAnswer(ev.data);
    const hello = enabledHello(ev.data);
    if (!hello) return;
    viewerId = hello.viewerId;
    mark('hello');
    let peer: ShellPeer;
    try {
      peer = createShellPeer(hello.iceServers, hello.videoSection);
    } catch {
      return;
    }
    const { pc, dc } = peer;
    pc.onicecandidate = (e) => {
      const m = candidateSignal(e.candidate);
      if (m) sender.send(m);
    };
    const offered = pc
      .createOffer()
      .then((offer) => pc.setLocalDescription(offer))
      .then(() => {
        sender.send({ type: 'offer' as const, sdp: withListedFormatsOnly(pc.localDescription?.sdp ?? '') });
        return sender.sent;
      })
      .then(() => mark('offer'));
    // client.js reports a failed offer when it takes over; until then nobody awaits it.
    offered.catch(() => undefined);
    dc.addEventListener('open', () => mark('channel-open'));
    attempt.peer = { ...peer, offered, inbox: holdMessages(dc) };
  };
  return attempt;
}
