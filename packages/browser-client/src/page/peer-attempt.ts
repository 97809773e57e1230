/**
 * One attempt at a P2P channel: the signaling WebSocket on the session
 * origin (SIGNAL_PATH), an RTCPeerConnection that offers a pool of data
 * channels (DATA_CHANNEL_LABEL, ordered: transports/channel-pool.ts), trickle
 * ICE both ways, then the protocol's HELLO exchange on each channel; the
 * session starts with the first channel's. Resolves with a live session or rejects
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
  DEFAULT_P2P_CHANNELS,
  joinPool,
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
  type Connection,
  type HostSignal,
  type P2PSettings,
} from '@wingman/protocol';
import { ICE_DEADLINE_FALLBACK_MS, SIGNAL_HELLO_TIMEOUT_MS } from '../shared/constants';
import type { EarlyAttempt } from './early-attempt';
import { channelFingerprints } from './channel-fingerprints';
import { closeShellPeer, createShellPeer, offerPrepared } from './peer-connection';
import { candidateSignal, signalSender, signalUrl } from './signal-out';
import { mark, markAt } from './timeline';

export type AttemptReason = 'disabled' | 'signaling' | 'ice-timeout' | 'ice-failed' | 'refused' | 'unsupported' | 'unverified';

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
  /** The first data channel (tests close it to simulate a network failure: the whole pool then goes). */
  readonly channel: RTCDataChannel;
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
  /** The peer connection's getStats() (the diagnostics page reads the selected pair's types and the byte counts). */
  stats(): Promise<RTCStatsReport | undefined>;
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
    let pc: RTCPeerConnection | undefined;
    let dcs: RTCDataChannel[] = [];
    const pool = new ConnectionPool();
    let viewerId = '';
    let settled = false;
    let closed = false;
    let remoteSet = false;
    const pending: RTCIceCandidateInit[] = [];
    const closeListeners: Array<(reason: string) => void> = [];
    let timer = setTimeout(() => fail(new AttemptError('signaling', `no signaling hello within ${SIGNAL_HELLO_TIMEOUT_MS} ms`)), SIGNAL_HELLO_TIMEOUT_MS);

    const send = signalSender(ws, keys, () => viewerId, early?.sent).send;
    /** Signaling in, in order: with the link key, a MACed type must carry the agent's valid MAC, else it is dropped. */
    let inbound = Promise.resolve();
    const receive = (m: HostSignal<string>) => {
      if (!keys || !isMacedType(m.type)) return onSignal(m);
      inbound = inbound
        .then(async () => {
          const valid = await signalMacValid(await keys, 'agent', viewerId, m as MacedSignal, 'mac' in m ? m.mac : undefined);
          if (closed) return;
          if (valid) return onSignal(m);
          const what = m.type === 'ice-candidate' ? 'a candidate' : `the ${m.type}`;
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
      send({ type: 'bye', reason: reason.slice(0, 200) });
      pool.close();
      try {
        for (const dc of dcs) dc.close();
        pc?.close();
        early?.peer?.pc.close();
        early?.prepared?.pc.close();
      } catch {
        /* already closed */
      }
      ws.close(1000);
      for (const fn of closeListeners.splice(0)) fn(reason);
    };
    function fail(err: AttemptError): void {
      if (settled) return teardown(err.message);
      settled = true;
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
        receive(parseHostSignal(data));
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
      start(hello.p2p);
    }

    function onSignalError(code: string, message: string): void {
      const disabled = code === 'ERR_P2P_DISABLED';
      fail(new AttemptError(disabled ? 'disabled' : 'refused', disabled ? 'P2P disabled by the server or agent' : `${code}: ${message}`, disabled));
    }

    function start(p2p: P2PSettings): void {
      clearTimeout(timer);
      const deadline = p2p.timeoutMs > 0 ? p2p.timeoutMs : ICE_DEADLINE_FALLBACK_MS;
      // From here, also for an attempt the inline script started: ICE needs the answer, which only this script applies.
      timer = setTimeout(() => fail(new AttemptError('ice-timeout', `no data channel within ${deadline} ms`)), deadline);
      // The inline script made them from this same hello, with this hello's ICE servers.
      const adopted = early?.peer;
      // Or made them before the hello, which came after this script took over: offered here.
      const prepared = !adopted && early?.prepared?.videoSection === (p2p.videoSection === true) ? early.prepared : undefined;
      if (!adopted && !prepared) closeShellPeer(early?.prepared);
      ({ pc, dcs } = adopted ?? prepared ?? createShellPeer(p2p.iceServers, p2p.videoSection === true, channelCount));
      pc.onicecandidate = (ev) => {
        const m = candidateSignal(ev.candidate);
        if (m) send(m);
      };
      // A STUN/TURN server that did not answer or refused: other candidates
      // may still connect, and the attempt's own deadline covers the rest.
      pc.onicecandidateerror = (ev) => console.debug(`wingman: ICE candidate error ${ev.errorCode} from ${ev.url}: ${ev.errorText}`);
      pc.onconnectionstatechange = () => {
        const s = pc?.connectionState;
        if (s === 'failed') fail(new AttemptError('ice-failed', 'ICE failed'));
        else if (s === 'closed' && settled) teardown('peer connection closed');
      };
      const peer = pc;
      const channels = dcs;
      channels[0]!.addEventListener('open', () => mark('channel-open'));
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
      const connect = (bound: DataChannelLike) => {
        const remoteMax = pc?.sctp?.maxMessageSize ?? maxMessageSizeFromSdp(pc?.remoteDescription?.sdp ?? '');
        return connectionOverDataChannel(bound, { role: 'client', maxMessageBytes: dataChannelMessageBytes(remoteMax) });
      };
      const bindingFailed = (err: unknown) => {
        if (err instanceof BindingError && err.refused) untrusted('channel-binding', err.message);
        fail(new AttemptError('unverified', `channel binding failed: ${(err as Error).message}`));
      };
      channels.forEach((channel, i) => {
        const joined = joinPool(channel, pool, { ...(keys ? { bind } : {}), connect });
        joined.then(
          (conn) => {
            if (closed) return;
            // A channel of the pool gone is the peer connection gone: back to the relay (p2p.ts retries).
            if (conn.isClosed) return teardown('channel closed');
            conn.on('close', () => teardown('channel closed'));
            if (i > 0 || settled) return;
            settled = true;
            clearTimeout(timer);
            const connectMs = Math.round(performance.now() - started);
            mark('ready');
            send({ type: 'connection-state', state: 'connected', connectMs });
            resolve(session(conn, channel, connectMs, fingerprints));
          },
          (err: unknown) => {
            if (err instanceof BindingError) return bindingFailed(err);
            // An agent that serves fewer channels closes the others: the pool goes on without them.
            if (i > 0) return;
            if (settled) teardown('channel closed');
            else fail(new AttemptError('ice-failed', 'the data channel closed while connecting'));
          },
        );
      });
      if (adopted) {
        // What the inline script's attempt went through before this script took over.
        adopted.offered.then(
          () => mark('offer'),
          (err: unknown) => fail(new AttemptError('ice-failed', `could not create an offer: ${(err as Error).message}`)),
        );
        // The inline script never applies the answer, so its channel is still connecting (an open one's first messages would be lost).
        if (pc.connectionState === 'failed' || channels.some((c) => c.readyState !== 'connecting'))
          return fail(new AttemptError('ice-failed', 'the early peer connection is not connecting'));
        return;
      }
      void (async () => {
        if (prepared)
          return offerPrepared(prepared, p2p.iceServers, (sdp) => {
            send({ type: 'offer', sdp });
            mark('offer');
          });
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        send({ type: 'offer', sdp: pc.localDescription?.sdp ?? offer.sdp ?? '' });
        mark('offer');
      })().catch((err: unknown) => fail(new AttemptError('ice-failed', `could not create an offer: ${(err as Error).message}`)));
    }

    function onSignal(m: HostSignal<string>): void {
      if (!pc) return;
      switch (m.type) {
        case 'answer':
          mark('answer');
          pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).then(
            () => {
              remoteSet = true;
              for (const c of pending.splice(0)) void pc?.addIceCandidate(c).catch(iceCandidateNotAdded);
            },
            (err: unknown) => fail(new AttemptError('refused', `bad answer: ${(err as Error).message}`)),
          );
          return;
        case 'ice-candidate':
          if (remoteSet) void pc.addIceCandidate(m.candidate).catch(iceCandidateNotAdded);
          else if (pending.length < 64) pending.push(m.candidate);
          return;
        case 'error':
          // After connecting, a signaling complaint (e.g. about a late report) must not kill a working channel.
          if (settled) return;
          return onSignalError(m.code, m.message);
        case 'bye':
          // After connecting, the channel's own close is the word: the server says bye when the agent's relay
          // link drops (a server restart, a network change), and the agent's channels outlive that link.
          if (settled) return;
          return fail(new AttemptError('refused', `the agent ended P2P${m.reason ? `: ${m.reason}` : ''}`));
        default:
          return;
      }
    }

    function session(conn: Connection, channel: RTCDataChannel, connectMs: number, fingerprints: ChannelFingerprints | undefined): PeerSession {
      return {
        connection: conn,
        pick: () => pool.pick(),
        channels: () => pool.connections.length,
        channel,
        viewerId,
        connectMs,
        verified: keys !== undefined && fingerprints !== undefined,
        ...(fingerprints ? { fingerprints } : {}),
        close: (reason) => teardown(reason),
        stats: () => (pc && !closed ? pc.getStats() : Promise.resolve(undefined)),
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
