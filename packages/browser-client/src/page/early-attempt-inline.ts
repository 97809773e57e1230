/**
 * The early P2P attempt of the shell's inline script (shell-inline.ts): the
 * signaling WebSocket at once, and on the server's hello (or at once, from
 * the hello in the document or the tab's resume record, the first offer
 * then leaving as a signal batch: signal-batch.ts) the
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
import type { EarlyAttemptHandover, EarlyPeer } from './shell-handover';
import { afterClaim } from './claim-first';
import { certificateWithin, CERTIFICATE_WAIT_MS, predictedPublic, resumeLocalOffer } from './resume-offer';
import { keptCertificate, takeResumeRecord } from './resume-record';
import { newViewerId, SIGNAL_BATCH_CANDIDATE_WAIT_MS, signalBatch, type SignalBatchOut } from './signal-batch';
import { candidateSignal, linkTrustKeys, signalSender, signalUrl } from './signal-out';

/** "candidate:… typ host …": the browser's own address, which the offer's batch waits for (signal-batch.ts). */
const HOST_CANDIDATE = / typ host\b/;

type Hello = NonNullable<ReturnType<typeof enabledHello>>;

/**
 * The viewer id, ICE servers and video-section setting of a hello that enables P2P, else undefined.
 * Only the shape needed to make the peer connection is checked here;
 * client.js validates the hello in full when it replays it.
 */
function enabledHello(
  text: unknown,
): { viewerId: string; iceServers: RTCIceServer[]; videoSection: boolean; peerConnections: number; resume: boolean } | undefined {
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
  const { enabled, iceServers, videoSection, peerConnections, resume } = p2p as {
    enabled?: unknown;
    iceServers?: unknown;
    videoSection?: unknown;
    peerConnections?: unknown;
    resume?: unknown;
  };
  return enabled === true && Array.isArray(iceServers) && VIEWER_ID_PATTERN.test(viewerId)
    ? {
        viewerId,
        iceServers: iceServers as RTCIceServer[],
        videoSection: videoSection === true,
        peerConnections: p2pPeerConnectionCount(peerConnections, 1),
        resume: resume !== false,
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
  // The tab's resumed peer connection (resume-record.ts): its certificate is read while the socket opens.
  const record = takeResumeRecord();
  const certificate = record ? keptCertificate().catch(() => undefined) : undefined;
  let certificateRead: RTCCertificate | undefined | null = null;
  void certificate?.then((c) => void (certificateRead = c));
  // A record that kept its session's settings needs no hello to make the peer connections: the page names its own
  // viewer id, and its claim leaves as a signal batch while the socket opens (signal-batch.ts).
  // Without a record, a document the server made for this navigation carries its viewer's hello (SHELL_HELLO_ATTRIBUTE):
  // the page names that id, and its offer leaves as a signal batch the same way.
  const docHello = record ? undefined : enabledHello(document.documentElement.getAttribute(SHELL_HELLO_ATTRIBUTE));
  // Read once: its TURN credentials need not stay in the shell's DOM.
  document.documentElement.removeAttribute(SHELL_HELLO_ATTRIBUTE);
  const named = record?.settings && certificate ? newViewerId() : docHello?.viewerId;
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
  const attempt: EarlyAttemptHandover = {
    ws,
    messages: [],
    marks,
    sent: () => sender.sent,
    ...(record && certificate ? { resume: { record, certificate: () => certificate } } : {}),
  };
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
    // Made ahead from the kept settings: their claim went as a batch.
    if (attempt.peers) return;
    if (!record || !certificate || !hello.resume || certificateRead !== null) return makePeers(hello, certificateRead ?? undefined);
    // The certificate is still being read (IndexedDB's first open in a page): the peer connections wait for it, briefly.
    void certificateWithin(certificate, CERTIFICATE_WAIT_MS).then((c) => {
      // client.js took the attempt over meanwhile: it makes the peer connections.
      if (ws.onmessage === onMessage) makePeers(hello, c);
    });
  };
  ws.onmessage = onMessage;

  if (docHello) makePeers(docHello, undefined, signalBatch(docHello.viewerId, keys, sender));
  else if (named && record?.settings && certificate) {
    const { stunUrls, videoSection, peerConnections } = record.settings;
    void certificateWithin(certificate, CERTIFICATE_WAIT_MS).then((c) => {
      // The hello came first (it makes them), or client.js took the attempt over (it does).
      if (!c || attempt.peers || 'hello' in marks || ws.onmessage !== onMessage) return;
      const ahead: Hello = { viewerId: named, iceServers: stunUrls.map((urls) => ({ urls })), videoSection, peerConnections, resume: true };
      makePeers(ahead, c, signalBatch(named, keys, sender));
    });
  }

  /**
   * The peer connections and their offers; `certificate`: the first one
   * resumes the kept record's; `batch`: made before the hello, the first
   * peer connection's offer (a claim when resuming) and its first candidates
   * go as a signal batch.
   */
  function makePeers(hello: Hello, certificate: RTCCertificate | undefined, batch?: SignalBatchOut): void {
    const resume = record && certificate && hello.resume ? record : undefined;
    /** The resuming first peer connection's offer, handed to the sender (or failed). */
    let claimSent: Promise<void> | undefined;
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
      created = createShellPeers(hello.iceServers, hello.videoSection, channels, hello.peerConnections, resume ? certificate : undefined);
    } catch {
      return;
    }
    attempt.peers = created.map(({ pc: peer, dcs, probe }, index) => {
      peer.onicecandidate = (e) => {
        const m = candidateSignal(e.candidate);
        if (!m) return;
        // The resumed peer connection's public candidate, predicted ahead of its own (resume-offer.ts).
        const guess = index === 0 && resume && e.candidate ? predictedPublic(e.candidate.toJSON(), resume) : undefined;
        if (guess)
          out(
            { type: 'ice-candidate', candidate: { candidate: guess.candidate!, sdpMid: guess.sdpMid ?? null, sdpMLineIndex: guess.sdpMLineIndex ?? null } },
            index,
          );
        out(m, index);
        if (index === 0 && m.type === 'ice-candidate' && HOST_CANDIDATE.test(m.candidate.candidate)) {
          toBatch.host = true;
          batchFull();
        }
      };
      const early: EarlyPeer = {
        pc: peer,
        dcs,
        ...(probe ? { probe } : {}),
        offered: Promise.resolve(),
        inbox: dcs.map(holdMessages),
        ...(index === 0 && resume ? { resuming: true } : {}),
      };
      // A resuming first peer connection's claim leaves before the others' offers (claim-first.ts).
      const made = afterClaim(index > 0 ? claimSent : undefined, () => peer.createOffer())
        .then(async (offer) => {
          if (index > 0 || !resume) return peer.setLocalDescription(offer);
          early.resumed = await resumeLocalOffer(peer, offer, resume);
          if (early.resumed) {
            mark('resumed');
            mark('answer');
          }
        })
        .then(() => {
          out(
            { type: 'offer' as const, sdp: withListedFormatsOnly(peer.localDescription?.sdp ?? ''), ...(early.resumed ? { resume: resume!.resume } : {}) },
            index,
          );
          if (index > 0 || !batch) return;
          toBatch.offer = true;
          batchFull();
          setTimeout(sealBatch, SIGNAL_BATCH_CANDIDATE_WAIT_MS);
          return batchLeft;
        });
      if (index === 0 && resume) claimSent = made;
      const offered = made
        .then(() => sender.sent)
        .then(() => {
          if (index === 0 && !batch) mark('offer');
        });
      // client.js reports a failed offer when it takes over; until then nobody awaits it.
      offered.catch(() => undefined);
      if (index === 0) dcs[0]!.addEventListener('open', () => mark('channel-open'));
      early.offered = offered;
      return early;
    });
    signals = earlySignals(
      created.map((c) => c.pc),
      keys,
      () => viewerId,
      mark,
      attempt.peers.map((p) => () => p.resumed === true),
    );
    // What came after the hello while the certificate was read.
    for (const m of attempt.messages.slice(1)) signals.take(m);
    attempt.applied = signals.applied;
  }

  return attempt;
}
