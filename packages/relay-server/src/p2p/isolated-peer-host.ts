/**
 * A PeerHost whose peers live in a child process (host-process.ts):
 * @roamhq/wrtc is native and can crash its process (SIGSEGV on a send racing
 * a channel's teardown). Such a crash costs P2P viewers their channels (their
 * pages carry on over the relay and offer again), never the relay session;
 * the host restarts with a capped backoff, and offers it had not answered go
 * to the next one (offer-ledger.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { backoffDelay, type IceServer, type ViewerSignal } from '@wingman/protocol';
import type { Capture, ExchangeRecord, RequestLogEntry } from '../forward';
import { captureFromWire, parseFromHostMessages, type HostInit, type ToHost } from './host-ipc';
import { OfferLedger } from './offer-ledger';
import type { LinkTrust, PeerHost, PeerHostOptions, PeerInfo, PeerReport } from './peer-host';

/** First restart delay after a crash, ms; doubles per crash in a row up to HOST_RESTART_MAX_MS. */
export const HOST_RESTART_BASE_MS = 500;
const HOST_RESTART_MAX_MS = 30_000;
/** A host that ran this long before crashing restarts at the base delay again, ms. */
const HOST_STABLE_AFTER_MS = 60_000;
/** A host that does not exit this long after `close` is killed, ms. */
const HOST_CLOSE_GRACE_MS = 3_000;

export interface HostCrash {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started at all (e.g. `spawn /path/to/node ENOENT`). */
  spawnError?: string;
  /** Viewers whose channels ended with it. */
  viewers: number;
  restartInMs: number;
}

export interface IsolatedPeerHostOptions extends Pick<PeerHostOptions, 'sendSignal' | 'report' | 'onRtt' | 'onUntrusted'> {
  init: Omit<HostInit, 't'>;
  /** One line per P2P request (the child's forwarder). */
  onRequest?(entry: RequestLogEntry): void;
  /** Answers the host's claims (forward/exchange-record.ts). */
  exchanges?: ExchangeRecord;
  /** When `init.captureBodyLimitBytes` is set. */
  onCapture?(capture: Capture): void;
  onStart?(pid: number | undefined): void;
  /** The host process ended without being asked to. */
  onCrash?(crash: HostCrash): void;
  /** Default: host-process.js beside this file. */
  entry?: string;
  /** Default: process.execPath. */
  execPath?: string;
}

export function createIsolatedPeerHost(options: IsolatedPeerHostOptions): PeerHost {
  const entry = options.entry ?? join(__dirname, 'host-process.js');
  let iceServers: IceServer[] = options.init.iceServers;
  let trust: LinkTrust | undefined = options.init.trust;
  let child: ChildProcess | undefined;
  let startedAt = 0;
  let crashesInARow = 0;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  /** From the current child's reports. */
  const connected = new Map<string, PeerInfo>();
  /** Offers the host has not answered yet: replayed to the next host after a crash. */
  const ledger = new OfferLedger();
  const unavailable = (viewerId: string, why: string) =>
    options.sendSignal(viewerId, { type: 'error', code: 'ERR_P2P_UNAVAILABLE', message: `the agent's P2P host ${why}; staying on the relay` });

  const post = (m: ToHost) => {
    if (child?.connected) child.send(m, undefined, {}, () => undefined);
  };

  const report = (r: PeerReport) => {
    ledger.forget(r.viewerId);
    if (r.state === 'connected')
      connected.set(r.viewerId, {
        viewerId: r.viewerId,
        state: 'connected',
        verified: r.verified === true,
        ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}),
        streams: 0,
      });
    else connected.delete(r.viewerId);
    options.report?.(r);
  };

  const rtt = (viewerId: string, rttMs: number) => {
    const peer = connected.get(viewerId);
    if (peer) peer.rttMs = rttMs;
    options.onRtt?.(viewerId, rttMs);
  };

  function start(): void {
    restartTimer = undefined;
    if (closed) return;
    const c = fork(entry, [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // Structured clone: captured bodies cross as bytes, not base64 in JSON (forward/capture.ts).
      serialization: 'advanced',
      ...(options.execPath !== undefined ? { execPath: options.execPath } : {}),
    });
    child = c;
    startedAt = Date.now();
    c.on('message', (raw) => {
      if (c !== child) return;
      for (const m of parseFromHostMessages(raw)) {
        if (m.t === 'signal') {
          if (m.message.type === 'answer') ledger.answered(m.viewerId);
          else if (m.message.type === 'error' || m.message.type === 'bye') ledger.forget(m.viewerId);
          options.sendSignal(m.viewerId, m.message);
        } else if (m.t === 'report') report(m.report);
        else if (m.t === 'rtt') rtt(m.viewerId, m.rttMs);
        else if (m.t === 'request') options.onRequest?.(m.entry);
        else if (m.t === 'capture') options.onCapture?.(captureFromWire(m.capture));
        else if (m.t === 'untrusted') options.onUntrusted?.(m.event);
        else if (m.t === 'claim') post({ t: 'claimed', seq: m.seq, won: options.exchanges?.claim(m.viewerId, m.id) ?? true });
        else if (m.t === 'claim-ended') options.exchanges?.ended(m.viewerId, m.id);
      }
    });
    // A process that could not be spawned (no pid) emits 'error' and never 'exit': a crash like any other.
    c.on('error', (err) => {
      if (c.pid === undefined) onExit(c, null, null, err.message);
    });
    c.on('exit', (code, signal) => onExit(c, code, signal));
    c.send({ t: 'init', ...options.init, iceServers, ...(trust ? { trust } : {}) } satisfies ToHost, undefined, {}, () => undefined);
    // What viewers sent while it was down, or sent a host that died before answering them.
    for (const { viewerId, message } of ledger.started()) post({ t: 'signal', viewerId, message });
    options.onStart?.(c.pid);
  }

  function onExit(c: ChildProcess, code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (c !== child) return;
    child = undefined;
    // Its channels died with it: say so for each viewer (CLI, server metrics).
    const lost = [...connected.keys()];
    connected.clear();
    options.exchanges?.endAll();
    const why = spawnError !== undefined ? `P2P host failed to start (${spawnError})` : `P2P host ended (${signal ?? `exit code ${code}`})`;
    for (const viewerId of lost) {
      options.report?.({ viewerId, state: 'closed', reason: why });
      // A dead process sends no SCTP/DTLS close: else the page learns only from ICE consent checks, ~30 s on.
      options.sendSignal(viewerId, { type: 'bye', reason: `${why}; the relay carries on` });
    }
    if (closed) {
      ledger.crashed(undefined);
      return;
    }
    crashesInARow = Date.now() - startedAt >= HOST_STABLE_AFTER_MS ? 1 : crashesInARow + 1;
    const restartInMs = backoffDelay(crashesInARow, { initialMs: HOST_RESTART_BASE_MS, maxMs: HOST_RESTART_MAX_MS, jitter: false });
    // Answered but not connected, or not to be held for a restart this far off: told now, it offers again.
    for (const viewerId of ledger.crashed(restartInMs).refuse) unavailable(viewerId, `ended (${signal ?? `exit code ${code}`}) before the channel opened`);
    options.onCrash?.({ pid: c.pid, code, signal, ...(spawnError !== undefined ? { spawnError } : {}), viewers: lost.length, restartInMs });
    restartTimer = setTimeout(start, restartInMs);
  }

  start();

  return {
    handleSignal(viewerId: string, message: ViewerSignal) {
      if (child?.connected) {
        ledger.note(viewerId, message);
        return post({ t: 'signal', viewerId, message });
      }
      // Between a crash and its restart: kept for the next host if it starts soon; else the viewer stays on the relay.
      if (ledger.hold(viewerId, message)) return;
      if (message.type === 'offer') unavailable(viewerId, 'is restarting');
    },
    viewerLeft(viewerId: string) {
      ledger.forget(viewerId);
      post({ t: 'viewer-left', viewerId });
    },
    closePeer(viewerId: string, reason: string) {
      post({ t: 'close-peer', viewerId, reason });
    },
    peers: () => [...connected.values()],
    setIceServers(servers: IceServer[]) {
      iceServers = servers;
      post({ t: 'ice-servers', iceServers: servers });
    },
    setTrust(next: LinkTrust | undefined) {
      trust = next;
      post(next ? { t: 'trust', trust: next } : { t: 'trust' });
    },
    close() {
      if (closed) return;
      closed = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      const c = child;
      if (!c) return;
      post({ t: 'close' });
      const kill = setTimeout(() => c.kill('SIGKILL'), HOST_CLOSE_GRACE_MS);
      kill.unref();
      c.once('exit', () => clearTimeout(kill));
    },
  };
}
