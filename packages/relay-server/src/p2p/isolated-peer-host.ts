/**
 * A PeerHost whose peers live in a child process (host-process.ts):
 * @roamhq/wrtc is native and can crash its process (SIGSEGV when a viewer's
 * channel closes while the host sends on it: a race inside wrtc). The agent
 * gives every P2P viewer a process of its own (per-viewer-hosts.ts), so such
 * a crash costs only that viewer its channel; its page carries on over the
 * relay and offers again. A process is not restarted: the next offer gets a
 * new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { IceServer, ViewerSignal } from '@wingman/protocol';
import type { Capture, ExchangeRecord, RequestLogEntry } from '../forward';
import { captureFromWire, parseFromHostMessages, type HostInit, type ToHost } from './host-ipc';
import type { LinkTrust, PeerHostOptions, PeerInfo, PeerReport } from './peer-host';

/** A host that does not exit this long after `close` is killed, ms. */
const HOST_CLOSE_GRACE_MS = 3_000;

export interface HostCrash {
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The process could not be started at all (e.g. `spawn /path/to/node ENOENT`). */
  spawnError?: string;
  /** It ended before saying it was ready: a failure to start, not a crash in service. */
  beforeReady: boolean;
  /** Viewers whose channels ended with it. */
  viewers: number;
}

export interface IsolatedPeerHostOptions extends Pick<PeerHostOptions, 'sendSignal' | 'report' | 'onRtt' | 'onUntrusted'> {
  init: Omit<HostInit, 't'>;
  /** One line per P2P request (the child's forwarder). */
  onRequest?(entry: RequestLogEntry): void;
  /** Answers the host's claims (forward/exchange-record.ts). */
  exchanges?: ExchangeRecord;
  /** When `init.captureBodyLimitBytes` is set. */
  onCapture?(capture: Capture): void;
  onReady?(): void;
  /** The host process ended without being asked to. */
  onCrash?(crash: HostCrash): void;
  /** Default: process.execPath. */
  execPath?: string;
}

export type IsolatedPeerHost = ReturnType<typeof createIsolatedPeerHost>;

export function createIsolatedPeerHost(options: IsolatedPeerHostOptions) {
  let closed = false;
  let ended = false;
  let ready = false;
  /** From the child's reports: who is connected, and verified (the agent reads no more of them). */
  const connected = new Map<string, PeerInfo>();
  /** Viewers that offered and are neither connected nor closed: told the host is gone if it dies. */
  const negotiating = new Set<string>();
  /** Every viewer this host carried: its exchanges end with the process. */
  const served = new Set<string>();

  const c: ChildProcess = fork(join(__dirname, 'host-process.js'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // Structured clone: captured bodies cross as bytes, not base64 in JSON (forward/capture.ts).
    serialization: 'advanced',
    ...(options.execPath !== undefined ? { execPath: options.execPath } : {}),
  });
  const post = (m: ToHost) => {
    if (!ended && c.connected) c.send(m, undefined, {}, () => undefined);
  };

  const report = (r: PeerReport) => {
    negotiating.delete(r.viewerId);
    if (r.state === 'connected')
      connected.set(r.viewerId, {
        viewerId: r.viewerId,
        state: 'connected',
        verified: r.verified === true,
        streams: 0,
      });
    else connected.delete(r.viewerId);
    options.report?.(r.state === 'connected' && c.pid !== undefined ? { ...r, hostPid: c.pid } : r);
  };

  c.on('message', (raw) => {
    for (const m of parseFromHostMessages(raw)) {
      if (m.t === 'signal') {
        if (m.message.type === 'error' || m.message.type === 'bye') negotiating.delete(m.viewerId);
        options.sendSignal(m.viewerId, m.message);
      } else if (m.t === 'report') report(m.report);
      else if (m.t === 'rtt') options.onRtt?.(m.viewerId, m.rttMs);
      else if (m.t === 'request') options.onRequest?.(m.entry);
      else if (m.t === 'capture') options.onCapture?.(captureFromWire(m.capture));
      else if (m.t === 'untrusted') options.onUntrusted?.(m.event);
      else if (m.t === 'claim') post({ t: 'claimed', seq: m.seq, won: options.exchanges?.claim(m.viewerId, m.id) ?? true });
      else if (m.t === 'claim-ended') options.exchanges?.ended(m.viewerId, m.id);
      else if (m.t === 'ready') {
        ready = true;
        options.onReady?.();
      }
    }
  });
  // A process that could not be spawned (no pid) emits 'error' and never 'exit': a crash like any other.
  c.on('error', (err) => {
    if (c.pid === undefined) onExit(null, null, err.message);
  });
  c.on('exit', (code, signal) => onExit(code, signal));
  c.send({ t: 'init', ...options.init } satisfies ToHost, undefined, {}, () => undefined);

  function onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (ended) return;
    ended = true;
    options.exchanges?.endViewers(served);
    if (closed) return;
    const why = spawnError !== undefined ? `P2P host failed to start (${spawnError})` : `P2P host ended (${signal ?? `exit code ${code}`})`;
    // Its channels died with it: say so for each viewer (CLI, server metrics).
    const lost = [...connected.keys()];
    connected.clear();
    for (const viewerId of lost) {
      options.report?.({ viewerId, state: 'closed', reason: why });
      // A dead process sends no SCTP/DTLS close: else the page learns only from ICE consent checks, ~30 s on.
      options.sendSignal(viewerId, { type: 'bye', reason: `${why}; the relay carries on` });
    }
    for (const viewerId of negotiating) {
      options.report?.({ viewerId, state: 'failed', reason: why });
      options.sendSignal(viewerId, {
        type: 'error',
        code: 'ERR_P2P_UNAVAILABLE',
        message: `the agent's ${why} before the channel opened; staying on the relay`,
      });
    }
    negotiating.clear();
    options.onCrash?.({ pid: c.pid, code, signal, ...(spawnError !== undefined ? { spawnError } : {}), beforeReady: !ready, viewers: lost.length });
  }

  return {
    /** The process ended (asked to or not): every call is then a no-op. */
    get ended() {
      return ended;
    },
    /** Viewers that have offered to it. */
    get viewersServed() {
      return served.size;
    },
    handleSignal(viewerId: string, message: ViewerSignal) {
      if (message.type === 'offer') {
        negotiating.add(viewerId);
        served.add(viewerId);
      }
      post({ t: 'signal', viewerId, message });
    },
    viewerLeft(viewerId: string) {
      post({ t: 'viewer-left', viewerId });
    },
    closePeer(viewerId: string, reason: string) {
      post({ t: 'close-peer', viewerId, reason });
    },
    peers: () => [...connected.values()],
    setIceServers(servers: IceServer[]) {
      post({ t: 'ice-servers', iceServers: servers });
    },
    setTrust(next: LinkTrust | undefined) {
      post(next ? { t: 'trust', trust: next } : { t: 'trust' });
    },
    close() {
      if (closed) return;
      closed = true;
      if (ended) return;
      post({ t: 'close' });
      const kill = setTimeout(() => c.kill('SIGKILL'), HOST_CLOSE_GRACE_MS);
      kill.unref();
      c.once('exit', () => clearTimeout(kill));
    },
  };
}
