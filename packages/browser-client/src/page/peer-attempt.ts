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
  type LossProbeOptions,
  type LossProbeResult,
  type P2PSettings,
  runLossProbe,
  withListedFormatsOnly,
} from '@wingman/protocol';
import { ICE_DEADLINE_FALLBACK_MS, SIGNAL_HELLO_TIMEOUT_MS } from '../shared/constants';
import { replayingChannel } from '@wingman/protocol';
import type { EarlyAttempt } from './early-attempt';
import { channelFingerprints } from './channel-fingerprints';
import { closeShellPeer } from './close-shell-peer';
import { createShellPeers, type ShellPeer } from './peer-connection';
import { candidateSignal, signalSender, signalUrl } from './signal-out';
import { mark, markAt } from './timeline';

/** Why an attempt failed. `offline`: the server says the agent is away (restarting). `altered`: it got no channel after the link key's checks dropped signaling (a path that rewrote it). */
export type AttemptReason = 'disabled' | 'offline' | 'signaling' | 'ice-timeout' | 'ice-failed' | 'refused' | 'unsupported' | 'unverified' | 'altered';

export class AttemptError extends Error {
  override readonly name = 'AttemptError';
  constructor(
    readonly reason: AttemptReason,
    message: string,
    /** Retrying cannot help (P2P disabled, no WebRTC in this browser). */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface PeerSession {
  /** The first channel's connection: the heartbeat (RTT, liveness) runs on it. */
  readonly connection: Connection;
  /** The connection a new stream goes on: the ready one of the pool with the fewest open streams. */
  pick(): Connection | undefined;
  /** How many channels of the pool are ready. */
  channels(): number;
  /** The primary peer connection's first data channel (tests close it to simulate a network failure: the whole pool then goes). */
  readonly channel: RTCDataChannel;
  /** How many peer connections carry ready channels. */
  peerConnections(): number;
  readonly viewerId: string;
  /** Start of the attempt → protocol HELLO received, ms. */
  readonly connectMs: number;
  /** The channel ends at the holder of the link key (MACed signaling and channel binding passed). */
  readonly verified: boolean;
  /** The fingerprints the binding covered (verified channels). */
  readonly fingerprints?: ChannelFingerprints;
  /** Closes everything (bye to the agent). Idempotent. */
  close(reason: string): void;
  /** Called once when the channel is gone (closed by either side, or failed). */
  onClosed(fn: (reason: string) => void): void;
  /** The primary peer connection's getStats() (the diagnostics page reads the selected pair's types and the byte counts). */
  stats(): Promise<RTCStatsReport | undefined>;
  /**
   * The loss probe on the primary peer connection (docs/PROTOCOL.md §Loss
   * probe), run once per session: undefined where the browser made no probe
   * channel or the server turned the probe off (the hello's p2p.lossProbe).
   * The events come before it ends: `onLossy` as soon as the losses make the
   * path lossy, `onEarlyClean` once enough probes came back with none lost.
   */
  lossProbe(events?: Pick<LossProbeOptions, 'onLossy' | 'onEarlyClean'>): Promise<LossProbeResult | undefined>;
  /** The server turned the loss probe off for this session (the hello's p2p.lossProbe is false). */
  readonly lossProbeOff: boolean;
  /** Tells the agent (through the server) how the channel is doing: metrics. */
  report(state: 'connected' | 'failed', extra?: { reason?: string; rttMs?: number }): void;
}

/**
 * A remote candidate this browser refused (e.g. an mDNS name it cannot
 * resolve): the other candidates go on, so it is logged at debug level only.
 */
function iceCandidateNotAdded(err: unknown): void {
  console.debug(`wingman: ICE candidate not added: ${err instanceof Error ? err.message : String(err)}`);
}

/** What the link key's checks refused: a signaling message ('signal-mac') or a channel ('channel-binding'). */
export type UntrustedReport = (code: 'signal-mac' | 'channel-binding', message: string) => void;

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
    let peers: Striped[] = [];
    /** The peer connection the session started on. */
    let primary: Striped | undefined;
    const pool = new ConnectionPool();
    let viewerId = '';
    /** The hello's p2p.lossProbe: whether the session runs the loss probe (docs/PROTOCOL.md §Loss probe). */
    let lossProbeOn = true;
    let settled = false;
    /** Signaling messages the link key's checks dropped in this attempt. */
    let droppedSignals = 0;
    let closed = false;
    const closeListeners: Array<(reason: string) => void> = [];
    let timer = setTimeout(() => fail(new AttemptError('signaling', `no signaling hello within ${SIGNAL_HELLO_TIMEOUT_MS} ms`)), SIGNAL_HELLO_TIMEOUT_MS);

    const send = signalSender(ws, keys, () => viewerId, early?.sent).send;
    /**
     * Signaling in, in order: with the link key, a MACed type must carry the
     * agent's valid MAC, else it is dropped.
     */
    let inbound = Promise.resolve();
    const receive = (m: HostSignal<string>) => {
      if (!keys || !isMacedType(m.type)) return onSignal(m);
      const trust = keys;
      inbound = inbound
        .then(async () => {
          const valid = await signalMacValid(await trust, 'agent', viewerId, m as MacedSignal, 'mac' in m ? m.mac : undefined);
          if (closed) return;
          if (valid) return onSignal(m);
          const what = m.type === 'ice-candidate' ? 'a candidate' : `the ${m.type}`;
          droppedSignals++;
          untrusted(
            'signal-mac',
            `dropped ${what}: ${'mac' in m && m.mac !== undefined ? 'wrong' : 'no'} MAC (the tunnel server or its path altered the signaling)`,
          );
        })
        .catch((err: unknown) => fail(new AttemptError('signaling', `cannot check a MAC: ${(err as Error).message}`)));
    };
    const teardown = (reason: string) => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      for (const p of peers.length > 0 ? peers : [{ index: 0 }]) send(tagged({ type: 'bye' as const, reason: reason.slice(0, 200) }, p.index));
      pool.close();
      for (const p of peers) closeShellPeer(p);
      for (const p of early?.peers ?? []) closeShellPeer(p);
      ws.close(1000);
      for (const fn of closeListeners.splice(0)) fn(reason);
    };
    function fail(given: AttemptError): void {
      if (settled) return teardown(given.message);
      settled = true;
      // No channel after dropped signaling: the drops are the cause, not the network (the badge says so).
      const err =
        droppedSignals > 0 && (given.reason === 'ice-timeout' || given.reason === 'ice-failed')
          ? new AttemptError(
              'altered',
              `${given.message} (${droppedSignals} signaling message(s) dropped for a missing or wrong MAC: the tunnel server or its path altered them)`,
            )
          : given;
      send({ type: 'connection-state', state: 'failed', reason: err.message.slice(0, 200) });
      teardown(err.message);
      reject(err);
    }

    ws.onopen = () => mark('signal-open');
    // Signaling only sets a channel up: after success the channel lives on its own (a tunnel-server
    // restart closes this socket, not the channel); before, this attempt is over.
    ws.onerror = () => {
      if (!settled) fail(new AttemptError('signaling', 'the signaling connection failed'));
    };
    ws.onclose = () => {
      if (!settled) fail(new AttemptError('signaling', 'the signaling connection closed'));
    };
    const onMessage = (data: unknown) => {
      if (typeof data !== 'string' || closed) return;
      try {
        if (!viewerId) return onHello(data);
        const m = parseHostSignal(data);
        if (m.type === 'answer' && peerIndex(m) === 0) mark('answer-in');
        receive(m);
      } catch (err) {
        fail(new AttemptError('signaling', `bad signaling message: ${(err as Error).message}`));
      }
    };
    ws.onmessage = (ev) => onMessage(ev.data);

    // The inline script's attempt: what its socket received, as if it arrived now (takes the hello and the peer connection over).
    for (const m of early?.messages ?? []) onMessage(m);

    function onHello(text: string): void {
      let hello;
      try {
        hello = parseSignalHello(text);
      } catch (err) {
        // The server refuses with an error instead of a hello (P2P off, too many viewers).
        const m = parseHostSignal(text);
        if (m.type === 'error') return onSignalError(m.code, m.message);
        throw err;
      }
      viewerId = hello.viewerId;
      mark('hello');
      if (!hello.p2p.enabled) return fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
      lossProbeOn = hello.p2p.lossProbe !== false;
      start(hello.p2p);
    }

    function onSignalError(code: string, message: string): void {
      if (code === 'ERR_P2P_DISABLED') return fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
      fail(new AttemptError(code === 'ERR_AGENT_OFFLINE' ? 'offline' : 'refused', `${code}: ${message}`));
    }

    function start(p2p: P2PSettings): void {
      clearTimeout(timer);
      const deadline = p2p.timeoutMs > 0 ? p2p.timeoutMs : ICE_DEADLINE_FALLBACK_MS;
      // From here, also for an attempt the inline script started.
      // After the session started, the deadline only drops the peer connections not up by then.
      timer = setTimeout(() => {
        if (!settled) return fail(new AttemptError('ice-timeout', `no data channel within ${deadline} ms`));
        for (const p of peers) if (!p.up) drop(p, `not up within ${deadline} ms`);
      }, deadline);
      // The inline script made them from this same hello, with this hello's ICE servers.
      const adopted = early?.peers;
      const made = adopted ?? createShellPeers(p2p.iceServers, p2p.videoSection === true, channelCount, p2pPeerConnectionCount(p2p.peerConnections, 1));
      peers = made.map((m, index) => ({
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
      peers[0]!.dcs[0]!.addEventListener('open', () => mark('channel-open'));
      for (const p of peers) startPeer(p);
      if (adopted) {
        // What the inline script's attempt went through before this script took over.
        adopted.forEach((a, i) => {
          a.offered.then(
            () => {
              if (i === 0) mark('offer');
            },
            (err: unknown) => dropOrFail(peers[i]!, 'ice-failed', `could not create an offer: ${(err as Error).message}`),
          );
        });
        // The inline script held what its open channels received: a channel with more than it holds, or closed, cannot go on.
        if (
          peers.some(
            (p) =>
              p.pc.connectionState === 'failed' ||
              p.dcs.some((c) => c.readyState === 'closing' || c.readyState === 'closed') ||
              adopted[p.index]!.inbox?.some((h) => h.overflowed) === true,
          )
        )
          return fail(new AttemptError('ice-failed', 'the early peer connection is not usable'));
        return;
      }
      for (const p of peers) {
        const peer = p.pc;
        void (async () => {
          const offer = await peer.createOffer();
          await peer.setLocalDescription(offer);
          send(tagged({ type: 'offer' as const, sdp: withListedFormatsOnly(peer.localDescription?.sdp ?? offer.sdp ?? '') }, p.index));
          if (p.index === 0) mark('offer');
        })().catch((err: unknown) => dropOrFail(p, 'ice-failed', `could not create an offer: ${(err as Error).message}`));
      }
    }

    /**
     * A peer connection failed or closed. Before the session started, the
     * attempt goes on over the others (it fails with the last); after, the
     * primary's loss ends the session, another's only takes its channels
     * out of the pool.
     */
    function dropOrFail(p: Striped, reason: AttemptReason, message: string): void {
      if (closed || p.dropped) return;
      if (settled ? p === primary : peers.every((x) => x === p || x.dropped)) {
        if (settled) return teardown(message);
        return fail(new AttemptError(reason, message));
      }
      drop(p, message);
    }

    /** Takes one peer connection out: its channels leave the pool, the agent hears a bye for it. */
    function drop(p: Striped, reason: string): void {
      if (p.dropped || p === primary) return;
      p.dropped = true;
      for (const c of p.own) pool.remove(c);
      send(tagged({ type: 'bye' as const, reason: reason.slice(0, 200) }, p.index));
      closeShellPeer(p);
    }

    /** Runs one peer connection: its candidates out, its channels bound and joined. */
    function startPeer(p: Striped): void {
      const peer = p.pc;
      peer.onicecandidate = (ev) => {
        const m = candidateSignal(ev.candidate);
        if (m && !p.dropped) send(tagged(m, p.index));
      };
      // A STUN/TURN server that did not answer or refused: other candidates
      // may still connect, and the attempt's own deadline covers the rest.
      peer.onicecandidateerror = (ev) => console.debug(`wingman: ICE candidate error ${ev.errorCode} from ${ev.url}: ${ev.errorText}`);
      peer.onconnectionstatechange = () => {
        const s = peer.connectionState;
        if (s === 'failed') dropOrFail(p, 'ice-failed', 'ICE failed');
        else if (s === 'closed' && settled) dropOrFail(p, 'ice-failed', 'peer connection closed');
      };
      let fingerprints: ChannelFingerprints | undefined;
      let proofs: Promise<{ own: string; expected: string }> | undefined;
      // Bound before any frame, each channel of the pool: the agent's first message on it must prove it holds the link key on this very DTLS association.
      const bind = (c: DataChannelLike) =>
        bindDataChannel(
          c,
          () =>
            (proofs ??= (async () => {
              const k = await keys!;
              const fps = await channelFingerprints(peer);
              fingerprints = fps;
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
      const bindingFailed = (err: unknown) => {
        if (err instanceof BindingError && err.refused) untrusted('channel-binding', err.message);
        fail(new AttemptError('unverified', `channel binding failed: ${(err as Error).message}`));
      };
      // Joined into a pool of the peer connection's own, and into the attempt's once it is not dropped.
      const own = new ConnectionPool();
      p.dcs.forEach((channel, i) => {
        // Held messages first, before any the channel gets from now on (this runs in the task that took the attempt over).
        const held = p.held?.[i];
        const joined = joinPool(held ? replayingChannel(channel, held) : channel, own, { ...(keys ? { bind } : {}), connect });
        joined.then(
          (conn) => {
            if (closed || p.dropped) return conn.close();
            // A channel gone is its peer connection gone: the primary's ends the session (p2p.ts falls back to the relay and retries).
            if (conn.isClosed) return dropOrFail(p, 'ice-failed', 'channel closed');
            conn.on('close', (error) => dropOrFail(p, 'ice-failed', error ? `channel closed: ${error.message}` : 'channel closed'));
            p.own.push(conn);
            pool.add(conn);
            if (i > 0) return;
            p.up = true;
            if (settled) return;
            settled = true;
            primary = p;
            const connectMs = Math.round(performance.now() - started);
            mark('ready');
            send({ type: 'connection-state', state: 'connected', connectMs });
            resolve(session(conn, channel, connectMs, fingerprints, peer, p.probe));
          },
          (err: unknown) => {
            if (err instanceof BindingError) return bindingFailed(err);
            // An agent that serves fewer channels closes the others: the pool goes on without them.
            if (i > 0) return;
            dropOrFail(p, 'ice-failed', settled ? 'channel closed' : 'the data channel closed while connecting');
          },
        );
      });
    }

    function onSignal(m: HostSignal<string>): void {
      const p = peers[peerIndex(m)];
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
            (err: unknown) => dropOrFail(p, 'refused', `bad answer: ${(err as Error).message}`),
          );
          return;
        case 'ice-candidate':
          if (p.remoteSet) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded);
          else if (p.pending.length < 64) p.pending.push(m.candidate);
          return;
        case 'error':
          // The agent refused one peer connection (`pc`): the attempt goes on over the others.
          if (m.pc !== undefined) return dropOrFail(p, 'refused', `${m.code}: ${m.message}`);
          // After connecting, a signaling complaint (e.g. about a late report) must not kill a working channel.
          if (settled) return;
          return onSignalError(m.code, m.message);
        case 'bye': {
          const why = `the agent ended P2P${m.reason ? `: ${m.reason}` : ''}`;
          if (m.pc !== undefined) return dropOrFail(p, 'refused', why);
          // After connecting, the channel is the judge: the server says bye when the agent's relay link drops (a server
          // restart, a network change) and the channels outlive that link; the agent says it when its P2P host died.
          const conn = primary?.own[0];
          if (settled) return void (conn && peerGone(conn).then((gone) => gone && teardown(why)));
          return fail(new AttemptError('refused', why));
        }
        default:
          return;
      }
    }

    function session(
      conn: Connection,
      channel: RTCDataChannel,
      connectMs: number,
      fingerprints: ChannelFingerprints | undefined,
      pc: RTCPeerConnection,
      probe: RTCDataChannel | undefined,
    ): PeerSession {
      let measured: Promise<LossProbeResult | undefined> | undefined;
      return {
        connection: conn,
        pick: () => pool.pick(),
        channels: () => pool.connections.length,
        peerConnections: () => peers.filter((p) => p.up && !p.dropped).length,
        channel,
        viewerId,
        connectMs,
        verified: keys !== undefined && fingerprints !== undefined,
        ...(fingerprints ? { fingerprints } : {}),
        close: (reason) => teardown(reason),
        stats: () => (!closed ? pc.getStats() : Promise.resolve(undefined)),
        lossProbeOff: !lossProbeOn,
        lossProbe(events = {}) {
          measured ??= probe && lossProbeOn && !closed ? runLossProbe(probe, events) : Promise.resolve(undefined);
          return measured;
        },
        onClosed(fn) {
          if (closed) queueMicrotask(() => fn('closed'));
          else closeListeners.push(fn);
        },
        report(state, extra = {}) {
          send({
            type: 'connection-state',
            state,
            ...(extra.reason ? { reason: extra.reason.slice(0, 200) } : {}),
            ...(extra.rttMs !== undefined ? { rttMs: extra.rttMs } : {}),
          });
        },
      };
    }
  });
}
