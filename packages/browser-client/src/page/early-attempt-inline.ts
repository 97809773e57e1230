/**
 * The early P2P attempt of the shell's inline script (shell-inline.ts): the
 * signaling WebSocket at once, and meanwhile (once the inline script has run)
 * the RTCPeerConnection, its pool of `channels` data channels and its offer
 * (peer-connection.ts prepareShellPeer); on the server's hello the offer leaves with the hello's
 * ICE servers set, and the browser's candidates trickle as they come. It
 * keeps every signaling message that arrives and applies none: client.js
 * takes the attempt over (early-attempt.ts) and replays them through its own
 * handlers, so the channel opens only once it runs. Why it starts before
 * client.js: docs/browser-client.md §Decision.
 */
import { closeShellPeer, createShellPeer, offerPrepared, prepareShellPeer, type PreparedPeer, type ShellPeer } from './peer-connection';
import type { EarlyAttemptHandover, HandoverWindow } from './shell-handover';
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
 * link's key (MACed signaling), if it had one; `channels`: how many data
 * channels to offer (transports/channel-pool.ts); `videoSection`: whether the
 * page says the hello will ask for the video section.
 */
export function startEarlyAttempt(linkKey: string | undefined, channels: number, videoSection: boolean): EarlyAttemptHandover {
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    if (!(name in marks)) marks[name] = performance.now();
  };
  mark('attempt');
  const ws = new WebSocket(signalUrl());
  let viewerId = '';
  const sender = signalSender(ws, linkTrustKeys(linkKey), () => viewerId);
  const attempt: EarlyAttemptHandover = { ws, messages: [], marks, sent: () => sender.sent };
  let helloSeen = false;
  // Once the rest of the inline script ran: the app's frame and the Service Worker's registration do not wait for it.
  setTimeout(() => {
    // Not once the hello came, the socket is gone, or client.js took the attempt (it would never see this peer).
    if (helloSeen || ws.readyState > WebSocket.OPEN || (window as HandoverWindow).__wingmanShell?.early !== attempt) return;
    try {
      attempt.prepared = prepareShellPeer(videoSection, channels);
    } catch {
      // Made on the hello instead.
    }
  }, 0);
  /** The prepared peer, taken once (by the hello, or closed when there will be no offer). */
  const takePrepared = (): PreparedPeer | undefined => {
    helloSeen = true;
    const p = attempt.prepared;
    delete attempt.prepared;
    return p;
  };
  ws.onopen = () => mark('signal-open');
  ws.onclose = () => closeShellPeer(takePrepared());
  ws.onerror = () => closeShellPeer(takePrepared());
  ws.onmessage = (ev: MessageEvent) => {
    attempt.messages.push(ev.data);
    // Only the first message can be the hello.
    if (attempt.messages.length > 1) return;
    const hello = enabledHello(ev.data);
    const prepared = takePrepared();
    if (!hello) return closeShellPeer(prepared);
    viewerId = hello.viewerId;
    mark('hello');
    let created: ShellPeer;
    let offer: (peer: RTCPeerConnection) => Promise<void>;
    const sendOffer = (sdp: string) => {
      sender.send({ type: 'offer', sdp });
      void sender.sent.then(() => mark('offer'));
    };
    try {
      if (prepared && prepared.videoSection === hello.videoSection) {
        created = prepared;
        offer = () => offerPrepared(prepared, hello.iceServers, sendOffer);
      } else {
        closeShellPeer(prepared);
        created = createShellPeer(hello.iceServers, hello.videoSection, channels);
        offer = (peer) =>
          peer
            .createOffer()
            .then((o) => peer.setLocalDescription(o))
            .then(() => sendOffer(peer.localDescription?.sdp ?? ''));
      }
    } catch {
      return;
    }
    const { pc: peer, dcs } = created;
    peer.onicecandidate = (e) => {
      const m = candidateSignal(e.candidate);
      if (m) sender.send(m);
    };
    const offered = offer(peer).then(() => sender.sent);
    // client.js reports a failed offer when it takes over; until then nobody awaits it.
    offered.catch(() => undefined);
    attempt.peer = { pc: peer, dcs, offered };
  };
  return attempt;
}
