/**
 * One attempt at a P2P channel: the signaling WebSocket on the session
 * origin (SIGNAL_PATH), an RTCPeerConnection that offers a pool of data
 * channels (DATA_CHANNEL_LABEL, ordered: transports/channel-pool.ts), or the
 * hello's `p2p.peerConnections` the pool is striped over (offered at once,
 * each message tagged with its `pc`), trickle ICE both ways, then the
 * protocol's HELLO exchange on each channel; the session starts with the
 * first channel's of whichever peer connection comes up first (the primary:
 * heartbeat, stats; its loss ends the session). The others join the pool as
 * they come up; one of them failing only takes its channels out. Resolves with a live session or rejects
 * with an AttemptError naming the reason shown in the badge. Deadlines: the
 * server's hello (SIGNAL_HELLO_TIMEOUT_MS) and ICE + HELLO (the hello's
 * p2p.timeoutMs) — ICE failure alone can take minutes to surface.
 */
import {
  bindDataChannel,
  BindingError,
  bindingProof,
  connectionOverDataChannel,
  ConnectionPool,
  TailProbeGroup,
  DEFAULT_P2P_CHANNELS,
  joinPool,
  p2pPeerConnectionCount,
  peerIndex,
  tagged,
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
  type Connection,
  type HostSignal,
  type LossProbeResult,
  type P2PSettings,
  runLossProbe,
  type ViewerSignal,
  withListedFormatsOnly,
} from '@wingman/protocol';
import { ICE_DEADLINE_FALLBACK_MS, SIGNAL_HELLO_TIMEOUT_MS } from '../shared/constants';
import { replayingChannel } from '@wingman/protocol';
import type { EarlyAttempt } from './early-attempt';
import { AttemptError, type AttemptReason, type PeerSession, type UntrustedReport } from './attempt-types';
import { channelFingerprints } from './channel-fingerprints';
import { closeShellPeer } from './close-shell-peer';
import { createShellPeers, type ShellPeer } from './peer-connection';
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
 * and every channel bound before use (docs/PROTOCOL.md §Verified channels).
 * `channelCount`: the data channels to offer when the attempt starts from
 * scratch (transports/channel-pool.ts); an adopted attempt has its own.
 */
export function attemptP2P(
  early?: EarlyAttempt,
  keys?: Promise<TrustKeys>,
  untrusted: UntrustedReport = () => undefined,
  channelCount: number = DEFAULT_P2P_CHANNELS,
): Promise<PeerSession> {
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
    new Attempt({ ws, early, keys, untrusted, channelCount, started, resolve, reject }).listen();
  });
}

/** One peer connection of the attempt and its signaling state. */
interface Striped extends ShellPeer {
  index: number;
  remoteSet: boolean;
  pending: RTCIceCandidateInit[];
  /** Its ready connections. */
  own: Connection[];
  /** What each of its channels received before this script listened (an adopted attempt's). */
  held?: ReadonlyArray<readonly unknown[]>;
  up: boolean;
  dropped: boolean;
}

interface AttemptParts {
  ws: WebSocket;
  early: EarlyAttempt | undefined;
  keys: Promise<TrustKeys> | undefined;
  untrusted: UntrustedReport;
  channelCount: number;
  /** When the attempt started (the inline script's, for an adopted one). */
  started: number;
  resolve(session: PeerSession): void;
  reject(err: AttemptError): void;
}

class Attempt {
  peers: Striped[] = [];
  /** The peer connection the session started on. */
  primary: Striped | undefined;
  readonly pool = new ConnectionPool();
  viewerId = '';
  /** The hello's p2p.lossProbe: whether the session runs the loss probe (docs/PROTOCOL.md §Loss probe). */
  lossProbeOn = true;
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
    for (const p of this.peers.length > 0 ? this.peers : [{ index: 0 }]) this.send(tagged({ type: 'bye' as const, reason: reason.slice(0, 200) }, p.index));
    this.pool.close();
    for (const p of this.peers) closeShellPeer(p);
    for (const p of this.parts.early?.peers ?? []) closeShellPeer(p);
    this.parts.ws.close(1000);
    for (const fn of this.closeListeners.splice(0)) fn(reason);
  }

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

  onMessage(data: unknown): void {
    if (typeof data !== 'string' || this.closed) return;
    try {
      if (!this.viewerId) return this.onHello(data);
      const m = parseHostSignal(data);
      if (m.type === 'answer' && peerIndex(m) === 0) mark('answer-in');
      this.receive(m);
    } catch (err) {
      this.fail(new AttemptError('signaling', `bad signaling message: ${(err as Error).message}`));
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
    this.start(hello.p2p);
  }

  onSignalError(code: string, message: string): void {
    if (code === 'ERR_P2P_DISABLED') return this.fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
    this.fail(new AttemptError(code === 'ERR_AGENT_OFFLINE' ? 'offline' : 'refused', `${code}: ${message}`));
  }

  start(p2p: P2PSettings): void {
    clearTimeout(this.timer);
    const deadline = p2p.timeoutMs > 0 ? p2p.timeoutMs : ICE_DEADLINE_FALLBACK_MS;
    // From here, also for an attempt the inline script started.
    // After the session started, the deadline only drops the peer connections not up by then.
    this.timer = setTimeout(() => {
      if (!this.settled) return this.fail(new AttemptError('ice-timeout', `no data channel within ${deadline} ms`));
      for (const p of this.peers) if (!p.up) this.drop(p, `not up within ${deadline} ms`);
    }, deadline);
    // The inline script made them from this same hello, with this hello's ICE servers.
    const adopted = this.parts.early?.peers;
    const made =
      adopted ?? createShellPeers(p2p.iceServers, p2p.videoSection === true, this.parts.channelCount, p2pPeerConnectionCount(p2p.peerConnections, 1));
    this.peers = made.map((m, index) => ({
      pc: m.pc,
      dcs: m.dcs,
      ...(m.probe ? { probe: m.probe } : {}),
      ...('inbox' in m && m.inbox ? { held: m.inbox.map((h) => h.messages) } : {}),
      index,
      remoteSet: false,
      pending: [],
      own: [],
      up: false,
      dropped: false,
    }));
    this.peers[0]!.dcs[0]!.addEventListener('open', () => mark('channel-open'));
    for (const p of this.peers) this.startPeer(p);
    if (adopted) return this.adopt(adopted);
    for (const p of this.peers) this.offer(p);
  }

  /** What the inline script's attempt went through before this script took over. */
  adopt(adopted: NonNullable<EarlyAttempt['peers']>): void {
    adopted.forEach((a, i) => {
      a.offered.then(
        () => {
          if (i === 0) mark('offer');
        },
        (err: unknown) => this.dropOrFail(this.peers[i]!, 'ice-failed', `could not create an offer: ${(err as Error).message}`),
      );
    });
    // The inline script held what its open channels received: a channel with more than it holds, or closed, cannot go on.
    if (
      this.peers.some(
        (p) =>
          p.pc.connectionState === 'failed' ||
          p.dcs.some((c) => c.readyState === 'closing' || c.readyState === 'closed') ||
          adopted[p.index]!.inbox?.some((h) => h.overflowed) === true,
      )
    )
      this.fail(new AttemptError('ice-failed', 'the early peer connection is not usable'));
  }

  offer(p: Striped): void {
    const peer = p.pc;
    void (async () => {
      const offer = await peer.createOffer();
      await peer.setLocalDescription(offer);
      this.send(tagged({ type: 'offer' as const, sdp: withListedFormatsOnly(peer.localDescription?.sdp ?? offer.sdp ?? '') }, p.index));
      if (p.index === 0) mark('offer');
    })().catch((err: unknown) => this.dropOrFail(p, 'ice-failed', `could not create an offer: ${(err as Error).message}`));
  }

  /**
   * A peer connection failed or closed. Before the session started, the
   * attempt goes on over the others (it fails with the last); after, the
   * primary's loss ends the session, another's only takes its channels
   * out of the pool.
   */
  dropOrFail(p: Striped, reason: AttemptReason, message: string): void {
    if (this.closed || p.dropped) return;
    if (this.settled ? p === this.primary : this.peers.every((x) => x === p || x.dropped)) {
      if (this.settled) return this.teardown(message);
      return this.fail(new AttemptError(reason, message));
    }
    this.drop(p, message);
  }

  /** Takes one peer connection out: its channels leave the pool, the agent hears a bye for it. */
  drop(p: Striped, reason: string): void {
    if (p.dropped || p === this.primary) return;
    p.dropped = true;
    for (const c of p.own) this.pool.remove(c);
    this.send(tagged({ type: 'bye' as const, reason: reason.slice(0, 200) }, p.index));
    closeShellPeer(p);
  }

  /** Runs one peer connection: its candidates out, its channels bound and joined. */
  startPeer(p: Striped): void {
    const peer = p.pc;
    peer.onicecandidate = (ev) => {
      const m = candidateSignal(ev.candidate);
      if (m && !p.dropped) this.send(tagged(m, p.index));
    };
    // A STUN/TURN server that did not answer or refused: other candidates
    // may still connect, and the attempt's own deadline covers the rest.
    peer.onicecandidateerror = (ev) => console.debug(`wingman: ICE candidate error ${ev.errorCode} from ${ev.url}: ${ev.errorText}`);
    peer.onconnectionstatechange = () => {
      const s = peer.connectionState;
      if (s === 'failed') this.dropOrFail(p, 'ice-failed', 'ICE failed');
      else if (s === 'closed' && this.settled) this.dropOrFail(p, 'ice-failed', 'peer connection closed');
    };
    const keys = this.parts.keys;
    const binding: { fingerprints?: ChannelFingerprints; proofs?: Promise<{ own: string; expected: string }> } = {};
    // Bound before any frame, each channel of the pool: the agent's first message on it must prove it holds the link key on this very DTLS association.
    const bind = (c: DataChannelLike) =>
      bindDataChannel(
        c,
        () =>
          (binding.proofs ??= (async () => {
            const k = await keys!;
            const fps = await channelFingerprints(peer);
            binding.fingerprints = fps;
            const [own, expected] = await Promise.all([bindingProof(k, 'viewer', fps), bindingProof(k, 'agent', fps)]);
            return { own, expected };
          })()),
      ).then((bound) => {
        mark('bound');
        return bound;
      });
    // The Connection is made on open: its HELLO would be dropped on a channel still connecting.
    // What the agent announced (its cap, in its answer): the SCTP transport's negotiated size where the browser has it, else the answer's SDP.
    // One SCTP association per peer connection: its channels share their tail-loss probes.
    const tailProbes = new TailProbeGroup();
    const connect = (bound: DataChannelLike) => {
      const remoteMax = peer.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(peer.remoteDescription?.sdp ?? '');
      return connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax), tailProbes });
    };
    // Joined into a pool of the peer connection's own, and into the attempt's once it is not dropped.
    const own = new ConnectionPool();
    p.dcs.forEach((channel, i) => {
      // Held messages first, before any the channel gets from now on (this runs in the task that took the attempt over).
      const held = p.held?.[i];
      const joined = joinPool(held ? replayingChannel(channel, held) : channel, own, { ...(keys ? { bind } : {}), connect });
      joined.then(
        (conn) => this.joined(p, conn, channel, i, binding.fingerprints),
        (err: unknown) => this.notJoined(p, err, i),
      );
    });
  }

  /** Channel `i` of `p` is ready: it joins the attempt's pool, and the first one up starts the session. */
  joined(p: Striped, conn: Connection, channel: RTCDataChannel, i: number, fingerprints: ChannelFingerprints | undefined): void {
    if (this.closed || p.dropped) return conn.close();
    // A channel gone is its peer connection gone: the primary's ends the session (p2p.ts falls back to the relay and retries).
    if (conn.isClosed) return this.dropOrFail(p, 'ice-failed', 'channel closed');
    conn.on('close', (error) => this.dropOrFail(p, 'ice-failed', error ? `channel closed: ${error.message}` : 'channel closed'));
    p.own.push(conn);
    this.pool.add(conn);
    if (i > 0) return;
    p.up = true;
    if (this.settled) return;
    this.settled = true;
    this.primary = p;
    const connectMs = Math.round(performance.now() - this.parts.started);
    mark('ready');
    this.send({ type: 'connection-state', state: 'connected', connectMs });
    this.parts.resolve(this.session(conn, channel, connectMs, fingerprints, p));
  }

  /** The session over the attempt's pool, started on `primary`'s first channel. */
  session(conn: Connection, channel: RTCDataChannel, connectMs: number, fingerprints: ChannelFingerprints | undefined, primary: Striped): PeerSession {
    let measured: Promise<LossProbeResult | undefined> | undefined;
    const probe = primary.probe;
    return {
      connection: conn,
      pick: () => this.pool.pick(),
      channels: () => this.pool.connections.length,
      channel,
      viewerId: this.viewerId,
      connectMs,
      verified: this.parts.keys !== undefined && fingerprints !== undefined,
      ...(fingerprints ? { fingerprints } : {}),
      close: (reason) => this.teardown(reason),
      stats: () => (!this.closed ? primary.pc.getStats() : Promise.resolve(undefined)),
      lossProbeOff: !this.lossProbeOn,
      lossProbe: (events = {}) => {
        measured ??= probe && this.lossProbeOn && !this.closed ? runLossProbe(probe, events) : Promise.resolve(undefined);
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

  notJoined(p: Striped, err: unknown, i: number): void {
    if (err instanceof BindingError) {
      if (err.refused) this.parts.untrusted('channel-binding', err.message);
      return this.fail(new AttemptError('unverified', `channel binding failed: ${err.message}`));
    }
    // An agent that serves fewer channels closes the others: the pool goes on without them.
    if (i > 0) return;
    this.dropOrFail(p, 'ice-failed', this.settled ? 'channel closed' : 'the data channel closed while connecting');
  }

  onSignal(m: HostSignal<string>): void {
    const p = this.peers[peerIndex(m)];
    if (!p) return;
    const pc = p.pc;
    switch (m.type) {
      case 'answer':
        if (p.index === 0) mark('answer');
        pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(
          () => {
            p.remoteSet = true;
            for (const c of p.pending.splice(0)) void pc.addIceCandidate(c).catch(iceCandidateNotAdded);
          },
          (err: unknown) => this.dropOrFail(p, 'refused', `bad answer: ${(err as Error).message}`),
        );
        return;
      case 'ice-candidate':
        if (p.remoteSet) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded);
        else if (p.pending.length < 64) p.pending.push(m.candidate);
        return;
      case 'error':
        // The agent refused one peer connection (`pc`): the attempt goes on over the others.
        if (m.pc !== undefined) return this.dropOrFail(p, 'refused', `${m.code}: ${m.message}`);
        // After connecting, a signaling complaint (e.g. about a late report) must not kill a working channel.
        if (this.settled) return;
        return this.onSignalError(m.code, m.message);
      case 'bye': {
        const why = `the agent ended P2P${m.reason ? `: ${m.reason}` : ''}`;
        if (m.pc !== undefined) return this.dropOrFail(p, 'refused', why);
        // After connecting, the channel is the judge: the server says bye when the agent's relay link drops (a server
        // restart, a network change) and the channels outlive that link; the agent says it when its P2P host died.
        const conn = this.primary?.own[0];
        if (this.settled) return void (conn && peerGone(conn).then((gone) => gone && this.teardown(why)));
        return this.fail(new AttemptError('refused', why));
      }
      default:
        return;
    }
  }
}
