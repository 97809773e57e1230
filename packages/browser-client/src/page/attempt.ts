/**
 * One P2P attempt: signaling, the peer connection and offer, candidates both ways (MACs checked with the
 * link key), the channel's first messages held. The inline script makes the first and client.js carries it
 * on; each retry is a new one (docs/browser-client.md §Decision). In every shell page: the inline budget.
 */
import {
  holdMessages,
  isMacedType,
  parseHostSignal,
  parseSignalHello,
  peerGone,
  signalMacValid,
  SPEED_SWITCHES,
  withListedFormatsOnly,
  type ChannelInbox,
  type Connection,
  type HostSignal,
  type MacedSignal,
  type P2PSettings,
  type SpeedSwitch,
  type TrustKeys,
  type ViewerSignal,
} from '@wingman/protocol';
import { ICE_DEADLINE_FALLBACK_MS, SIGNAL_HELLO_TIMEOUT_MS } from '../shared/constants';
import { AttemptError, type AttemptReason } from './attempt-types';
import { closeShellPeer } from './close-shell-peer';
import { createShellPeer, type ShellPeer } from './peer-connection';
import { candidateSignal, signalSender, signalUrl } from './signal-out';
import { mark } from './timeline';

/** What an attempt tells whoever carries it on (peer-session.ts): what happened before it listened first, in order. */
interface AttemptListener {
  /** The peer connection is made; `inbox` holds what its channel received so far. */
  peer(peer: ShellPeer, inbox: ChannelInbox): void;
  /** The attempt ended before its session was ready. */
  failed(err: AttemptError): void;
  /** The link key's checks dropped a signaling message. */
  untrusted(code: 'signal-mac', message: string): void;
}

/** A remote candidate this browser refused (e.g. an mDNS name it cannot resolve): the others go on. */
function iceCandidateNotAdded(err: unknown): void {
  console.debug(`wingman: ICE candidate not added: ${err instanceof Error ? err.message : String(err)}`);
}

export class P2PAttempt {
  /** When it started (performance.now()): the session's connectMs counts from here. */
  readonly started = performance.now();
  readonly ws: WebSocket;
  viewerId = '';
  /** The hello's p2p.lossProbe: whether the session runs the loss probe (docs/PROTOCOL.md §Loss probe). */
  lossProbeOn = true;
  /** The hello's speed switches that are off (docs/speed-ledger.md): the Service Worker learns them with the channel. */
  switchedOff: SpeedSwitch[] = [];
  /** The session's Connection, once ready (ready()). */
  connection: Connection | undefined;
  /** Failed, or its session ready. */
  settled = false;
  closed = false;
  /** Sends after everything sent before, MACed when the shell holds the link key (signal-out.ts). */
  readonly send: (m: ViewerSignal) => void;
  private peer: ShellPeer | undefined;
  private timer: ReturnType<typeof setTimeout>;
  /** The agent's answer is applied: candidates go in at once, not into `pending`. */
  private remoteSet = false;
  private readonly pending: RTCIceCandidateInit[] = [];
  /** Signaling messages the link key's checks dropped. */
  private droppedSignals = 0;
  /** Signaling in, in order: with the link key, a MACed type must carry the agent's valid MAC, else it is dropped. */
  private inbound = Promise.resolve();
  private readonly closeListeners: Array<(reason: string) => void> = [];
  private listener: AttemptListener | undefined;
  private readonly queued: Array<(l: AttemptListener) => void> = [];

  /** `keys`: the link key's (signal-out.ts linkTrustKeys), when the link had one. Throws when the socket cannot be made. */
  constructor(readonly keys: Promise<TrustKeys> | undefined) {
    mark('attempt');
    const ws = (this.ws = new WebSocket(signalUrl()));
    this.send = signalSender(ws, keys, () => this.viewerId);
    this.timer = setTimeout(() => this.lost('signaling', `no signaling hello within ${SIGNAL_HELLO_TIMEOUT_MS} ms`), SIGNAL_HELLO_TIMEOUT_MS);
    ws.onopen = () => mark('signal-open');
    // Signaling only sets a channel up: after success the channel lives on its own (a tunnel-server
    // restart closes this socket, not the channel); before, this attempt is over.
    ws.onerror = () => this.settled || this.lost('signaling', 'the signaling connection failed');
    ws.onclose = () => this.settled || this.lost('signaling', 'the signaling connection closed');
    ws.onmessage = (ev: MessageEvent) => this.onMessage(ev.data);
  }

  /** Delivers what happened so far to `l`, then each event as it happens. */
  listen(l: AttemptListener): void {
    this.listener = l;
    for (const ev of this.queued.splice(0)) ev(l);
  }

  private emit(ev: (l: AttemptListener) => void): void {
    if (this.listener) ev(this.listener);
    else this.queued.push(ev);
  }

  onClosed(fn: (reason: string) => void): void {
    if (this.closed) queueMicrotask(() => fn('closed'));
    else this.closeListeners.push(fn);
  }

  /** Closes everything (bye to the agent). Idempotent. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.send({ type: 'bye', reason: reason.slice(0, 200) });
    this.connection?.close();
    if (this.peer) closeShellPeer(this.peer);
    this.ws.close(1000);
    for (const fn of this.closeListeners.splice(0)) fn(reason);
  }

  /** Ends the attempt; after its session started, it ends the session (p2p.ts falls back to the relay and retries). */
  fail(given: AttemptError): void {
    if (this.settled) return this.close(given.message);
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
    this.close(err.message);
    this.emit((l) => l.failed(err));
  }

  lost(reason: AttemptReason, message: string): void {
    this.fail(new AttemptError(reason, message));
  }

  /** The session's channel is ready (peer-session.ts): the attempt succeeded. Returns connectMs. */
  ready(conn: Connection): number {
    this.connection = conn;
    this.settled = true;
    clearTimeout(this.timer);
    const connectMs = Math.round(performance.now() - this.started);
    mark('ready');
    this.send({ type: 'connection-state', state: 'connected', connectMs });
    return connectMs;
  }

  private onMessage(data: unknown): void {
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

  private onHello(text: string): void {
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

  private onSignalError(code: string, message: string): void {
    if (code === 'ERR_P2P_DISABLED') return this.fail(new AttemptError('disabled', 'P2P disabled by the server or agent', true));
    this.lost(code === 'ERR_AGENT_OFFLINE' ? 'offline' : 'refused', `${code}: ${message}`);
  }

  /** The peer connection from the hello's settings: its candidates out, its channel's messages held, the offer. */
  private start(p2p: P2PSettings): void {
    clearTimeout(this.timer);
    const deadline = p2p.timeoutMs > 0 ? p2p.timeoutMs : ICE_DEADLINE_FALLBACK_MS;
    this.timer = setTimeout(() => this.lost('ice-timeout', `no data channel within ${deadline} ms`), deadline);
    const peer = (this.peer = createShellPeer(p2p.iceServers, p2p.videoSection === true));
    const { pc, dc } = peer;
    const inbox = holdMessages(dc);
    dc.addEventListener('open', () => mark('channel-open'));
    // Before the session is ready; after, the Connection's close ends it.
    dc.addEventListener('close', () => this.settled || this.lost('ice-failed', 'the data channel closed while connecting'));
    pc.onicecandidate = (ev) => {
      const m = candidateSignal(ev.candidate);
      if (m) this.send(m);
    };
    // A STUN/TURN server that did not answer or refused: other candidates may still connect, and the deadline covers the rest.
    pc.onicecandidateerror = (ev) => console.debug(`wingman: ICE candidate error ${ev.errorCode} from ${ev.url}: ${ev.errorText}`);
    pc.onconnectionstatechange = () => {
      const s = pc.connectionState;
      if (s === 'failed') this.lost('ice-failed', 'ICE failed');
      else if (s === 'closed' && this.settled) this.lost('ice-failed', 'peer connection closed');
      else if (s === 'connected' && !this.settled) this.connected(deadline);
    };
    void (async () => {
      await pc.setLocalDescription(await pc.createOffer());
      this.send({ type: 'offer', sdp: withListedFormatsOnly(pc.localDescription?.sdp ?? '') });
      mark('offer');
    })().catch((err: unknown) => this.lost('ice-failed', `could not create an offer: ${(err as Error).message}`));
    this.emit((l) => l.peer(peer, inbox));
  }

  /**
   * ICE and DTLS are done, so the path works: the channel's opening and the agent's HELLO get a deadline of their own.
   * With one deadline for both, a loaded machine that connected late gave up a working path after the agent had
   * served its channel, and the retry took a new peer (and a new agent-side host).
   */
  private connected(deadline: number): void {
    mark('ice-connected');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.lost('ice-timeout', `connected, but the channel was not ready within ${deadline} ms more`), deadline);
  }

  private receive(m: HostSignal<string>): void {
    const trust = this.keys;
    if (!trust || !isMacedType(m.type)) return this.onSignal(m);
    this.inbound = this.inbound
      .then(async () => {
        const valid = await signalMacValid(await trust, 'agent', this.viewerId, m as MacedSignal, 'mac' in m ? m.mac : undefined);
        if (this.closed) return;
        if (valid) return this.onSignal(m);
        const what = m.type === 'ice-candidate' ? 'a candidate' : `the ${m.type}`;
        this.droppedSignals++;
        const message = `dropped ${what}: ${'mac' in m && m.mac !== undefined ? 'wrong' : 'no'} MAC (the tunnel server or its path altered the signaling)`;
        this.emit((l) => l.untrusted('signal-mac', message));
      })
      .catch((err: unknown) => this.lost('signaling', `cannot check a MAC: ${(err as Error).message}`));
  }

  private onSignal(m: HostSignal<string>): void {
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
        if (this.settled) return void (conn && peerGone(conn).then((gone) => gone && this.close(why)));
        return this.lost('refused', why);
      }
      default:
        return;
    }
  }
}
