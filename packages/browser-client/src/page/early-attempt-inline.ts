/**
 * The early P2P attempt of the shell's inline script (shell-inline.ts): the
 * signaling WebSocket at once, and on the server's hello (or at once, from
 * the hello in the document, the first offer then leaving as a signal
 * batch: signal-batch.ts) the
 * RTCPeerConnection, its pool of `channels` data channels and the offer (or
 * the hello's `p2p.peerConnections` the pool is striped over, each offered at
 * once, tagged with its `pc`), with the browser's candidates trickled as they
 * come. It keeps every signaling message that arrives, and applies the
 * agent's answers and candidates as they come (early-signals.ts), holding
 * what the channels receive once they open (the protocol's transports/channel-inbox.ts): client.js
 * takes the attempt over (early-attempt.ts), replays the messages through
 * its own checks and the channels' held messages through its own handlers.
 * Why it starts before client.js: docs/browser-client.md §Decision.
 */
import { p2pPeerConnectionCount, SHELL_HELLO_ATTRIBUTE, tagged, VIEWER_ID_PATTERN, withListedFormatsOnly, type ViewerSignal } from '@wingman/protocol';
import { holdMessages } from '@wingman/protocol';
import { earlySignals, type EarlySignals } from './early-signals';
import { createShellPeers } from './peer-connection';
import type { EarlyAttemptHandover } from './shell-handover';
import { SIGNAL_BATCH_CANDIDATE_WAIT_MS, signalBatch, type SignalBatchOut } from './signal-batch';
import { candidateSignal, linkTrustKeys, signalSender, signalUrl } from './signal-out';

/** "candidate:… typ host …": the browser's own address, which the offer's batch waits for (signal-batch.ts). */
const HOST_CANDIDATE = / typ host\b/;

type Hello = NonNullable<ReturnType<typeof enabledHello>>;

/**
 * The viewer id, ICE servers and video-section setting of a hello that enables P2P, else undefined.
 * Only the shape needed to make the peer connection is checked here;
 * client.js validates the hello in full when it replays it.
 */
function enabledHello(text: unknown): { viewerId: string; iceServers: RTCIceServer[]; videoSection: boolean; peerConnections: number } | undefined {
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
  const { enabled, iceServers, videoSection, peerConnections } = p2p as {
    enabled?: unknown;
    iceServers?: unknown;
    videoSection?: unknown;
    peerConnections?: unknown;
  };
  return enabled === true && Array.isArray(iceServers) && VIEWER_ID_PATTERN.test(viewerId)
    ? {
        viewerId,
        iceServers: iceServers as RTCIceServer[],
        videoSection: videoSection === true,
        peerConnections: p2pPeerConnectionCount(peerConnections, 1),
      }
    : undefined;
}

/**
 * Starts the attempt and returns what client.js takes over. `linkKey`: the
 * link's key (MACed signaling), if it had one; `channels`: how many data
 * channels to offer (transports/channel-pool.ts); `scriptStart`: when the
 * shell's inline script started (the `inline` mark).
 */
export function startEarlyAttempt(linkKey: string | undefined, channels: number, scriptStart?: number): EarlyAttemptHandover {
  const marks: Record<string, number> = {};
  const mark = (name: string) => {
    if (!(name in marks)) marks[name] = performance.now();
  };
  if (scriptStart !== undefined) marks.inline = scriptStart;
  mark('attempt');
  // A document the server made for this navigation carries its viewer's hello (SHELL_HELLO_ATTRIBUTE): the page
  // names that id, and its offer leaves as a signal batch while the socket opens (signal-batch.ts).
  const docHello = enabledHello(document.documentElement.getAttribute(SHELL_HELLO_ATTRIBUTE));
  // Read once: its TURN credentials need not stay in the shell's DOM.
  document.documentElement.removeAttribute(SHELL_HELLO_ATTRIBUTE);
  const named = docHello?.viewerId;
  const ws = new WebSocket(signalUrl(named));
  let viewerId = named ?? '';
  const keys = linkTrustKeys(linkKey);
  // What the shell sends on the socket waits for the hello: the viewer id its MACs name is the hello's.
  let helloIn: () => void = () => undefined;
  const helloSeen = new Promise<void>((resolve) => (helloIn = resolve));
  ws.addEventListener(
    'message',
    (ev: MessageEvent) => {
      const hello = enabledHello(ev.data);
      if (hello) viewerId = hello.viewerId;
      helloIn();
    },
    { once: true },
  );
  ws.addEventListener('close', () => helloIn());
  const sender = signalSender(ws, keys, () => viewerId, helloSeen);
  let signals: EarlySignals | undefined;
  const attempt: EarlyAttemptHandover = { ws, messages: [], marks, sent: () => sender.sent };
  ws.onopen = () => mark('signal-open');
  /** When the first peer connection's answer arrived (applied once its MAC is checked: the `answer` mark). */
  const markAnswer = (data: unknown) => {
    if (typeof data !== 'string' || 'answer-in' in marks) return;
    try {
      const m = JSON.parse(data) as { type?: unknown; pc?: unknown };
      if (m.type === 'answer' && (m.pc === undefined || m.pc === 0)) mark('answer-in');
    } catch {
      /* client.js reports a bad message when it replays it */
    }
  };
  const onMessage = (ev: MessageEvent) => {
    attempt.messages.push(ev.data);
    // Only the first message can be the hello.
    if (attempt.messages.length > 1) {
      markAnswer(ev.data);
      return signals?.take(ev.data);
    }
    const hello = enabledHello(ev.data);
    if (!hello) return;
    viewerId = hello.viewerId;
    mark('hello');
    // Made ahead from the document's hello: their offer went as a batch.
    if (!attempt.peers) makePeers(hello);
  };
  ws.onmessage = onMessage;

  if (docHello) makePeers(docHello, signalBatch(docHello.viewerId, keys, sender));

  /**
   * The peer connections and their offers; `batch`: made before the hello,
   * the first peer connection's offer and its first candidates go as a
   * signal batch.
   */
  function makePeers(hello: Hello, batch?: SignalBatchOut): void {
    /** With a batch: it leaves once it holds the offer and a host candidate, or SIGNAL_BATCH_CANDIDATE_WAIT_MS after the offer. */
    const toBatch = { offer: false, host: false };
    let batchGone = false;
    let left: () => void = () => undefined;
    /** Settles once the batch has left and the server took it, or its messages were put back in the sender's order. */
    const batchLeft = new Promise<void>((resolve) => (left = resolve));
    const sealBatch = () => {
      if (!batch || batchGone) return;
      batchGone = true;
      mark('offer');
      void batch.seal().then(() => {
        if (batch.taken) mark('batch');
        left();
      });
    };
    const batchFull = () => {
      if (toBatch.offer && toBatch.host) sealBatch();
    };
    /** The first peer connection's message into the batch while it is open, else to the sender. */
    const out = (m: ViewerSignal, index: number) => {
      if (index === 0 && batch?.add(m)) return;
      sender.send(tagged(m, index));
    };
    let created;
    try {
      created = createShellPeers(hello.iceServers, hello.videoSection, channels, hello.peerConnections);
    } catch {
      return;
    }
    attempt.peers = created.map(({ pc: peer, dcs, probe }, index) => {
      peer.onicecandidate = (e) => {
        const m = candidateSignal(e.candidate);
        if (!m) return;
        out(m, index);
        if (index === 0 && m.type === 'ice-candidate' && HOST_CANDIDATE.test(m.candidate.candidate)) {
          toBatch.host = true;
          batchFull();
        }
      };
      const offered = peer
        .createOffer()
        .then((offer) => peer.setLocalDescription(offer))
        .then(() => {
          out({ type: 'offer' as const, sdp: withListedFormatsOnly(peer.localDescription?.sdp ?? '') }, index);
          if (index > 0 || !batch) return;
          toBatch.offer = true;
          batchFull();
          setTimeout(sealBatch, SIGNAL_BATCH_CANDIDATE_WAIT_MS);
          return batchLeft;
        })
        .then(() => sender.sent)
        .then(() => {
          if (index === 0 && !batch) mark('offer');
        });
      // client.js reports a failed offer when it takes over; until then nobody awaits it.
      offered.catch(() => undefined);
      if (index === 0) dcs[0]!.addEventListener('open', () => mark('channel-open'));
      return { pc: peer, dcs, ...(probe ? { probe } : {}), offered, inbox: dcs.map(holdMessages) };
    });
    signals = earlySignals(
      created.map((c) => c.pc),
      keys,
      () => viewerId,
      mark,
    );
    attempt.applied = signals.applied;
  }

  return attempt;
}
