/**
 * One attempt at a P2P channel: the signaling WebSocket on the session
 * origin (SIGNAL_PATH), an RTCPeerConnection that offers one data channel
 * (DATA_CHANNEL_LABEL, ordered), trickle ICE both ways, then the protocol's
 * HELLO exchange on the channel (bound to the link key first, when the link
 * has one). Resolves with a live session or rejects with an AttemptError
 * naming the reason shown in the badge. Deadlines: the server's hello
 * (SIGNAL_HELLO_TIMEOUT_MS) and ICE + HELLO (the hello's p2p.timeoutMs) —
 * ICE failure alone can take minutes to surface.
 */
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  isMacedType,
  signalMacValid,
  type ChannelFingerprints,
  type DataChannelLike,
  type MacedSignal,
  type TrustKeys,
  dataChannelMessageBytes,
  maxMessageSizeFromSdp,
  parseHostSignal,
  parseSignalHello,
  peerGone,
  readyConnection,
  replayingChannel,
  type Connection,
  type HostSignal,
  type LossProbeResult,
  type P2PSettings,
  runLossProbe,
  SPEED_SWITCHES,
  type SpeedSwitch,
  type ViewerSignal,
  withListedFormatsOnly,
} from '@wingman/protocol';
import { ICE_DEADLINE_FALLBACK_MS, SIGNAL_HELLO_TIMEOUT_MS } from '../shared/constants';
import type { EarlyAttempt } from './early-attempt';
import { AttemptError, type AttemptReason, type PeerSession, type UntrustedReport } from './attempt-types';
import { channelFingerprints } from './channel-fingerprints';
import { closeShellPeer } from './close-shell-peer';
import { createShellPeer, type ShellPeer } from './peer-connection';
import { candidateSignal, signalSender, signalUrl } from './signal-out';
import { mark, markAt } from './timeline';

export * from './attempt-types';

/**
 * A remote candidate this browser refused (e.g. an mDNS name it cannot
 * resolve): the other candidates go on, so it is logged at debug level only.
 */
function iceCandidateNotAdded(err: unknown): void {
  console.debug(`wingman: ICE candidate not added: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * `early`: the attempt the shell's inline script started (early-attempt.ts),
 * carried on from where it is: its socket, the messages it received, its
 * peer connection and channel. `keys`: the link key's (signal-out.ts
 * linkTrustKeys), when the link had one: the signaling is MACed both ways
 * and the channel bound before use (docs/PROTOCOL.md §Verified channels).
 */
export function attemptP2P(early?: EarlyAttempt, keys?: Promise<TrustKeys>, untrusted: UntrustedReport = () => undefined): Promise<PeerSession> {
  if (typeof RTCPeerConnection !== 'function') return Promise.reject(new AttemptError('unsupported', 'this browser has no WebRTC', true));
  for (const [name, at] of Object.entries(early?.marks ?? {})) markAt(name, at);
  const started = early?.marks.attempt ?? performance.now();
  mark('attempt');
  return new Promise<PeerSession>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = early?.ws ?? new WebSocket(signalUrl());
    } catch (err) {
      return reject(new AttemptError('signaling', `cannot open signaling: ${(err as Error).message}`));
    }
    new Attempt({ ws, early, keys, untrusted, started, resolve, reject }).listen();
  });
}

interface AttemptParts {
  ws: WebSocket;
  early: EarlyAttempt | undefined;
  keys: Promise<TrustKeys> | undefined;
  untrusted: UntrustedReport;
  /** When the attempt started (the inline script's, for an adopted one). */
  started: number;
  resolve(session: PeerSession): void;
  reject(err: AttemptError): void;
}

class Attempt {
  peer: ShellPeer | undefined;
  /** The agent's answer is applied: candidates go in at once, not into `pending`. */
  remoteSet = false;
  pending: RTCIceCandidateInit[] = [];
  /** The channel's connection once ready. */
  connection: Connection | undefined;
  viewerId = '';
  /** The hello's p2p.lossProbe: whether the session runs the loss probe (docs/PROTOCOL.md §Loss probe). */
  lossProbeOn = true;
  /** The hello's speed switches that are off (docs/speed-ledger.md): the Service Worker learns them with the channel. */
  switchedOff: SpeedSwitch[] = [];
  settled = false;
  /** Signaling messages the link key's checks dropped in this attempt. */
  droppedSignals = 0;
  closed = false;
  readonly closeListeners: Array<(reason: string) => void> = [];
  timer: ReturnType<typeof setTimeout>;
  readonly send: (m: ViewerSignal) => void;
  /**
   * Signaling in, in order: with the link key, a MACed type must carry the
   * agent's valid MAC, else it is dropped.
   */
  inbound = Promise.resolve();

  constructor(readonly parts: AttemptParts) {
    this.timer = setTimeout(() => this.fail(new AttemptError('signaling', `no signaling hello within ${SIGNAL_HELLO_TIMEOUT_MS} ms`)), SIGNAL_HELLO_TIMEOUT_MS);
    this.send = signalSender(parts.ws, parts.keys, () => this.viewerId, parts.early?.sent).send;
  }

  onClosed(fn: (reason: string) => void): void {
    if (this.closed) queueMicrotask(() => fn('closed'));
    else this.closeListeners.push(fn);
  }

  listen(): void {
    const ws = this.parts.ws;
    ws.onopen = () => mark('signal-open');
    // Signaling only sets a channel up: after success the channel lives on its own (a tunnel-server
    // restart closes this socket, not the channel); before, this attempt is over.
    ws.onerror = () => {
      if (!this.settled) this.fail(new AttemptError('signaling', 'the signaling connection failed'));
    };
    ws.onclose = () => {
      if (!this.settled) this.fail(new AttemptError('signaling', 'the signaling connection closed'));
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    // The inline script's attempt: what its socket received, as if it arrived now (takes the hello and the peer connection over).
    for (const m of this.parts.early?.messages ?? []) this.onMessage(m);
  }

  receive(m: HostSignal<string>): void {
    const trust = this.parts.keys;
    if (!trust || !isMacedType(m.type)) return this.onSignal(m);
    this.inbound = this.inbound
      .then(async () => {
        const valid = await signalMacValid(await trust, 'agent', this.viewerId, m as MacedSignal, 'mac' in m ? m.mac : undefined);
        if (this.closed) return;
        if (valid) return this.onSignal(m);
        const what = m.type === 'ice-candidate' ? 'a candidate' : `the ${m.type}`;
        this.droppedSignals++;
        this.parts.untrusted(
          'signal-mac',
          `dropped ${what}: ${'mac' in m && m.mac !== undefined ? 'wrong' : 'no'} MAC (the tunnel server or its path altered the signaling)`,
        );
      })
      .catch((err: unknown) => this.fail(new AttemptError('signaling', `cannot check a MAC: ${(err as Error).message}`)));
  }

  teardown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.send({ type: 'bye', reason: reason.slice(0, 200) });
    this.connection?.close();
    const peer = this.peer ?? this.parts.early?.peer;
    if (peer) closeShellPeer(peer);
    this.parts.ws.close(1000);
    for (const fn of this.closeListeners.splice(0)) fn(reason);
  }

  /** Ends the attempt; after the session started, it ends the session (p2p.ts falls back to the relay and retries). */
  fail(given: AttemptError): void {
    if (this.settled) return this.teardown(given.message);
    this.settled = true;
    // No channel after dropped signaling: the drops are the cause, not the network (the badge says so).
    const err =
      this.droppedSignals > 0 && (given.reason === 'ice-timeout' || given.reason === 'ice-failed')
        ? new AttemptError(
            'altered',
            `${given.message} (${this.droppedSignals} signaling message(s) dropped for a missing or wrong MAC: the tunnel server or its path altered them)`,
          )
        : given;
    this.send({ type: 'connection-state', state: 'failed', reason: err.message.slice(0, 200) });
    this.teardown(err.message);
    this.parts.reject(err);
  }

  /** fail() with a new AttemptError. */
  lost(reason: AttemptReason, message: string): void {
    this.fail(new AttemptError(reason, message));
  }

  onMessage(data: unknown): void {
    if (typeof data !== 'string' || this.closed) return;
    try {
      if (!this.viewerId) return this.onHello(data);
      const m = parseHostSignal(data);
      if (m.type === 'answer') mark('answer-in');
      this.receive(m);
    } catch (err) {
      this.lost('signaling', `bad signaling message: ${(err as Error).message}`);
    }
  }

  onHello(text: string): void {
    let hello;
    try {
      hello = parseSignalHello(text);
    } catch (err) {
      // The server refuses with an error instead of a hello (P2P off, too many viewers).
      const m = parseHostSignal(text);
      if (m.type === 'error') return this.onSignalError(m.code, m.message);
      throw err;
    }
    this.viewerId = hello.viewerId;
    mark('hello');
    if (!hello.p2p.enabled) return this.fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
    this.lossProbeOn = hello.p2p.lossProbe !== false;
    this.switchedOff = SPEED_SWITCHES.filter((name) => hello.p2p[name] === false);
    this.start(hello.p2p);
  }

  onSignalError(code: string, message: string): void {
    if (code === 'ERR_P2P_DISABLED') return this.fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
    this.lost(code === 'ERR_AGENT_OFFLINE' ? 'offline' : 'refused', `${code}: ${message}`);
  }

  start(p2p: P2PSettings): void {
    clearTimeout(this.timer);
    const deadline = p2p.timeoutMs > 0 ? p2p.timeoutMs : ICE_DEADLINE_FALLBACK_MS;
    // From here, also for an attempt the inline script started.
    this.timer = setTimeout(() => this.lost('ice-timeout', `no data channel within ${deadline} ms`), deadline);
    // The inline script made it from this same hello, with this hello's ICE servers.
    const adopted = this.parts.early?.peer;
    const peer = adopted ?? createShellPeer(p2p.iceServers, p2p.videoSection === true);
    this.peer = peer;
    peer.dc.addEventListener('open', () => mark('channel-open'));
    this.startPeer(peer, adopted?.inbox?.messages);
    if (adopted) this.adopt(adopted);
    else this.offer(peer.pc);
  }

  /** What the inline script's attempt went through before this script took over. */
  adopt(adopted: NonNullable<EarlyAttempt['peer']>): void {
    adopted.offered.then(
      () => mark('offer'),
      (err: unknown) => this.lost('ice-failed', `could not create an offer: ${(err as Error).message}`),
    );
    // The inline script held what its open channel received: a channel with more than it holds, or closed, cannot go on.
    const { pc, dc, inbox } = adopted;
    if (pc.connectionState === 'failed' || dc.readyState === 'closing' || dc.readyState === 'closed' || inbox?.overflowed === true)
      this.lost('ice-failed', 'the early peer connection is not usable');
  }

  offer(pc: RTCPeerConnection): void {
    void (async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      this.send({ type: 'offer', sdp: withListedFormatsOnly(pc.localDescription?.sdp ?? offer.sdp ?? '') });
      mark('offer');
    })().catch((err: unknown) => this.lost('ice-failed', `could not create an offer: ${(err as Error).message}`));
  }

  /** Runs the peer connection: its candidates out, its channel bound and connected (`held`: what it received before this script listened). */
  startPeer(peer: ShellPeer, held: readonly unknown[] | undefined): void {
    const { pc, dc } = peer;
    pc.onicecandidate = (ev) => {
      const m = candidateSignal(ev.candidate);
      if (m) this.send(m);
    };
    // A STUN/TURN server that did not answer or refused: other candidates
    // may still connect, and the attempt's own deadline covers the rest.
    pc.onicecandidateerror = (ev) => console.debug(`wingman: ICE candidate error ${ev.errorCode} from ${ev.url}: ${ev.errorText}`);
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState;
      if (s === 'failed') this.lost('ice-failed', 'ICE failed');
      else if (s === 'closed' && this.settled) this.lost('ice-failed', 'peer connection closed');
    };
    const keys = this.parts.keys;
    let fingerprints: ChannelFingerprints | undefined;
    // Bound before any frame: the agent's first message on it must prove it holds the link key on this very DTLS association.
    const bind = (c: DataChannelLike) =>
      bindDataChannel(c, async () => {
        const k = await keys!;
        fingerprints = await channelFingerprints(pc);
        const [own, expected] = await Promise.all([bindingProof(k, 'viewer', fingerprints), bindingProof(k, 'agent', fingerprints)]);
        return { own, expected };
      }).then((bound) => {
        mark('bound');
        return bound;
      });
    // The Connection is made on open: its HELLO would be dropped on a channel still connecting.
    // What the agent announced (its cap, in its answer): the SCTP transport's negotiated size where the browser has it, else the answer's SDP.
    const connect = (bound: DataChannelLike) => {
      const remoteMax = pc.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc.remoteDescription?.sdp ?? '');
      return connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax) });
    };
    // Held messages first, before any the channel gets from now on (this runs in the task that took the attempt over).
    readyConnection(held ? replayingChannel(dc, held) : dc, { ...(keys ? { bind } : {}), connect }).then(
      (conn) => this.ready(conn, fingerprints),
      (err: unknown) => this.notReady(err),
    );
  }

  /** The channel is ready: the session starts. */
  ready(conn: Connection, fingerprints: ChannelFingerprints | undefined): void {
    if (this.closed) return conn.close();
    if (conn.isClosed) return this.lost('ice-failed', 'channel closed');
    // The channel gone ends the session (p2p.ts falls back to the relay and retries).
    conn.on('close', (error) => this.lost('ice-failed', error ? `channel closed: ${error.message}` : 'channel closed'));
    this.connection = conn;
    this.settled = true;
    clearTimeout(this.timer);
    const connectMs = Math.round(performance.now() - this.parts.started);
    mark('ready');
    this.send({ type: 'connection-state', state: 'connected', connectMs });
    this.parts.resolve(this.session(conn, this.peer!, connectMs, fingerprints));
  }

  /** The session over the ready channel. */
  session(conn: Connection, peer: ShellPeer, connectMs: number, fingerprints: ChannelFingerprints | undefined): PeerSession {
    let measured: Promise<LossProbeResult | undefined> | undefined;
    return {
      connection: conn,
      channel: peer.dc,
      viewerId: this.viewerId,
      connectMs,
      verified: this.parts.keys !== undefined && fingerprints !== undefined,
      ...(fingerprints ? { fingerprints } : {}),
      close: (reason) => this.teardown(reason),
      stats: () => (!this.closed ? peer.pc.getStats() : Promise.resolve(undefined)),
      lossProbeOff: !this.lossProbeOn,
      switchedOff: this.switchedOff,
      lossProbe: (events = {}) => {
        measured ??= peer.probe && this.lossProbeOn && !this.closed ? runLossProbe(peer.probe, events) : Promise.resolve(undefined);
        return measured;
      },
      onClosed: (fn) => this.onClosed(fn),
      report: (state, extra = {}) => {
        this.send({
          type: 'connection-state',
          state,
          ...(extra.reason ? { reason: extra.reason.slice(0, 200) } : {}),
          ...(extra.rttMs !== undefined ? { rttMs: extra.rttMs } : {}),
        });
      },
    };
  }

  notReady(err: unknown): void {
    if (err instanceof BindingError) {
      if (err.refused) this.parts.untrusted('channel-binding', err.message);
      return this.lost('unverified', `channel binding failed: ${err.message}`);
    }
    this.lost('ice-failed', this.settled ? 'channel closed' : 'the data channel closed while connecting');
  }

  onSignal(m: HostSignal<string>): void {
    const pc = this.peer?.pc;
    if (!pc) return;
    switch (m.type) {
      case 'answer':
        mark('answer');
        pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(
          () => {
            this.remoteSet = true;
            for (const c of this.pending.splice(0)) void pc.addIceCandidate(c).catch(iceCandidateNotAdded);
          },
          (err: unknown) => this.lost('refused', `bad answer: ${(err as Error).message}`),
        );
        return;
      case 'ice-candidate':
        if (this.remoteSet) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded);
        else if (this.pending.length < 64) this.pending.push(m.candidate);
        return;
      case 'error':
        // After connecting, a signaling complaint (e.g. about a late report) must not kill a working channel.
        if (this.settled) return;
        return this.onSignalError(m.code, m.message);
      case 'bye': {
        const why = `the agent ended P2P${m.reason ? `: ${m.reason}` : ''}`;
        // After connecting, the channel is the judge: the server says bye when the agent's relay link drops (a server
        // restart, a network change) and the channel outlives that link; the agent says it when its P2P host died.
        const conn = this.connection;
        if (this.settled) return void (conn && peerGone(conn).then((gone) => gone && this.teardown(why)));
        return this.lost('refused', why);
      }
      default:
        return;
    }
  }
}
