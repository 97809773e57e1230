/**
 * Keeps a P2P channel up for as long as the shell lives: attempts, monitors
 * (protocol PINGs: RTT for the badge, liveness), and after a failure or a
 * closed channel retries with capped exponential backoff — but not after a
 * permanent refusal (P2P disabled) and not forever (RETRY_MAX_ATTEMPTS
 * failures in a row). Requests never wait for any of this: while there is
 * no channel they go through the relay.
 */
import { backoffDelay, startHeartbeat, type ChannelFingerprints, type Connection } from '@wingman/protocol';
import { summarizeStats, type DiagError, type StatsEntry } from '../shared/diagnostics';
import {
  AGENT_AWAY_RETRY_MS,
  DIAGNOSTICS_MAX_ERRORS,
  LOSS_PROBE_HOLD_MS,
  MAX_MISSED_PINGS,
  RTT_PING_TIMEOUT_MS,
  RETRY_BASE_MS,
  RETRY_MAX_ATTEMPTS,
  RETRY_MAX_MS,
  RTT_INTERVAL_MS,
} from '../shared/constants';
import { closeEarly, type EarlyAttempt } from './early-attempt';
import { AttemptError, attemptP2P, type AttemptReason, type PeerSession } from './peer-attempt';
import { linkTrustKeys } from './signal-out';
import { mark } from './timeline';

export type TransportStatus =
  | {
      transport: 'p2p';
      rttMs: number | undefined;
      connectMs: number;
      viewerId: string;
      /** Data channels of the pool that are ready (transports/channel-pool.ts). */
      channels: number;
      /** The selected candidate pair has a TURN relay at either end (known shortly after the channel opens). */
      turn?: boolean;
      /**
       * The loss probe found the peer path lossy (docs/PROTOCOL.md §Loss
       * probe), known a few round trips after the channel opens: the Service
       * Worker then routes bursts around the channel from the first one on.
       */
      lossy?: boolean;
      /**
       * The channel's loss probe runs and has not yet called the path lossy
       * or clean (LOSS_PROBE_EARLY_CLEAN answers with none lost): the
       * Service Worker routes bursts around the channel meanwhile.
       */
      probing?: boolean;
      /** The loss probe's figures once it ended: probes sent, and lost. */
      loss?: { sent: number; lost: number };
      /** The channel ends at the holder of the link key (docs/PROTOCOL.md §Verified channels). */
      verified: boolean;
      /** The DTLS fingerprints the binding covered (verified channels). */
      fingerprints?: ChannelFingerprints;
    }
  | { transport: 'relay'; reason: string };

/** Whether a getStats() report's selected pair goes through a TURN server. */
export function isTurnPair(report: RTCStatsReport): boolean {
  const ice = summarizeStats(report.values() as Iterable<StatsEntry>).ice;
  return ice !== undefined && (ice.local === 'relay' || ice.remote === 'relay');
}

export interface P2PManager {
  start(): void;
  /** The connection a new stream goes on, if there is a channel: the pool's least busy (the request server and the WebSocket bridge use it). */
  connection(): Connection | undefined;
  status(): TransportStatus;
  onStatus(fn: (s: TransportStatus) => void): void;
  /** Debugging and tests: close the data channel as a network failure would (the manager then reconnects). */
  dropChannel(): boolean;
  /** The channel's getStats(), when there is a channel. */
  stats(): Promise<RTCStatsReport | undefined>;
  /** Recent failures, oldest first (at most DIAGNOSTICS_MAX_ERRORS). */
  errors(): readonly DiagError[];
  /** Signaling messages and channels the link key's checks refused, since the shell started. */
  untrusted(): number;
  /** Whether the shell holds a link key (its channels are verified, or not used). */
  readonly keyed: boolean;
  /** Closes the channel and stops retrying (the page is going away). */
  stop(reason: string): void;
}

const REASONS: Record<AttemptReason, string> = {
  disabled: 'P2P disabled by server/agent',
  offline: 'agent offline',
  signaling: 'signaling failed',
  'ice-timeout': 'ICE timeout',
  'ice-failed': 'ICE failed',
  refused: 'refused by agent',
  unsupported: 'no WebRTC in this browser',
  unverified: 'channel not verified',
  altered: 'signaling was altered',
};

function verification(s: PeerSession): { verified: boolean; fingerprints?: ChannelFingerprints } {
  return { verified: s.verified, ...(s.fingerprints ? { fingerprints: s.fingerprints } : {}) };
}

/**
 * `early`: the attempt the shell's inline script started, carried on by the
 * first attempt (early-attempt.ts). Must be started (`start()`) in the task
 * that took it: signaling messages arriving after the take are not kept.
 * `channels`: the data channels each attempt offers (transports/channel-pool.ts).
 */
export function createP2PManager(options: { enabled: boolean; early?: EarlyAttempt; linkKey?: string; channels?: number }): P2PManager {
  const keys = linkTrustKeys(options.linkKey);
  let untrusted = 0;
  let status: TransportStatus = options.enabled ? { transport: 'relay', reason: 'connecting' } : { transport: 'relay', reason: REASONS.disabled };
  const listeners: Array<(s: TransportStatus) => void> = [];
  let session: PeerSession | undefined;
  let failures = 0;
  let stopped = false;
  let running = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopMonitor: (() => void) | undefined;
  let pendingEarly = options.early;
  const errors: DiagError[] = [];
  const logError = (code: string, message: string) => {
    errors.push({ at: new Date().toISOString(), code, message });
    if (errors.length > DIAGNOSTICS_MAX_ERRORS) errors.shift();
  };

  const setStatus = (s: TransportStatus) => {
    status = s;
    for (const fn of listeners) {
      try {
        fn(s);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };

  function attempt(): void {
    if (stopped || running) return;
    running = true;
    if (status.transport === 'relay' && status.reason !== 'connecting') setStatus({ transport: 'relay', reason: `${status.reason} · reconnecting` });
    const early = pendingEarly;
    pendingEarly = undefined;
    attemptP2P(
      early,
      keys,
      (code, message) => {
        untrusted++;
        logError(code, message);
        console.warn(`wingman: ${message}`);
      },
      options.channels,
    ).then(
      (s) => {
        running = false;
        if (stopped) return s.close('shell stopped');
        session = s;
        failures = 0;
        // Before the first page load's wave shows it (docs/PROTOCOL.md §Loss probe).
        const probing = !s.lossProbeOff;
        setStatus({
          transport: 'p2p',
          rttMs: undefined,
          connectMs: s.connectMs,
          viewerId: s.viewerId,
          channels: s.channels(),
          ...verification(s),
          ...(probing ? { probing: true } : {}),
        });
        // The pair's candidate types come from getStats(), a moment after the channel opened.
        void s
          .stats()
          .then((report) => {
            if (session !== s || !report || !isTurnPair(report) || status.transport !== 'p2p') return;
            setStatus({ ...status, turn: true });
          })
          .catch(() => undefined);
        if (probing) {
          mark('loss-probe');
          /** The status without `probing`, when it is still this session's. */
          const settled = () => {
            clearTimeout(hold);
            if (session !== s || status.transport !== 'p2p') return undefined;
            const { probing: _, ...rest } = status;
            return rest;
          };
          // The page's bursts wait for no verdict longer than this (an agent without the probe channel answers nothing).
          const hold = setTimeout(() => {
            if (session !== s || status.transport !== 'p2p' || !status.probing) return;
            const now = settled();
            if (now) setStatus(now);
          }, LOSS_PROBE_HOLD_MS);
          void s
            .lossProbe({
              onLossy: () => {
                mark('lossy');
                const now = settled();
                if (now) setStatus({ ...now, lossy: true });
              },
              onEarlyClean: () => {
                mark('loss-clean');
                const now = settled();
                if (now) setStatus(now);
              },
            })
            .then((r) => {
              const now = settled();
              if (!now) return;
              // The whole measurement is the verdict: probes the gap rule counted lost early that came
              // back after all were reordered, not lost, and take back the early lossy verdict.
              const { lossy: early, ...rest } = now;
              const lossy = r ? r.lossy : early === true;
              setStatus({ ...rest, ...(lossy ? { lossy: true } : {}), ...(r ? { loss: { sent: r.sent, lost: r.lost } } : {}) });
            });
        }
        monitor(s);
        s.onClosed((reason) => {
          if (session !== s) return;
          session = undefined;
          stopMonitor?.();
          const unresponsive = reason === 'ping timeout';
          logError(unresponsive ? 'channel-unresponsive' : 'channel-closed', reason);
          setStatus({ transport: 'relay', reason: unresponsive ? 'channel unresponsive' : 'channel closed' });
          schedule(RETRY_BASE_MS);
        });
      },
      (err: unknown) => {
        running = false;
        const e = err instanceof AttemptError ? err : new AttemptError('signaling', String(err));
        logError(e.reason, e.message);
        setStatus({ transport: 'relay', reason: REASONS[e.reason] });
        if (e.permanent) return;
        if (e.reason === 'offline') return schedule(AGENT_AWAY_RETRY_MS);
        failures++;
        if (failures >= RETRY_MAX_ATTEMPTS) return setStatus({ transport: 'relay', reason: `${REASONS[e.reason]} · gave up` });
        schedule(backoffDelay(failures, { initialMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS, jitter: false }));
      },
    );
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(attempt, delayMs);
  }

  function monitor(s: PeerSession): void {
    let reported = false;
    stopMonitor?.();
    // A PING stuck behind a bulk upload on a lossy path is not a dead channel: see ChannelLiveness.
    stopMonitor = startHeartbeat(s.connection, {
      intervalMs: RTT_INTERVAL_MS,
      timeoutMs: RTT_PING_TIMEOUT_MS,
      maxMissed: MAX_MISSED_PINGS,
      bufferedAmount: () => s.channel.bufferedAmount,
      immediate: true,
      onRtt: (ms) => {
        if (session !== s) return;
        const rttMs = Math.round(ms * 10) / 10;
        // What the channel's status learned since it opened (turn, the loss probe's verdict and figures) stays.
        const learned = status.transport === 'p2p' ? status : {};
        setStatus({ ...learned, transport: 'p2p', rttMs, connectMs: s.connectMs, viewerId: s.viewerId, channels: s.channels(), ...verification(s) });
        if (!reported) {
          reported = true;
          s.report('connected', { rttMs });
        }
      },
      onDead: () => {
        if (session === s) s.close('ping timeout');
      },
    });
  }

  return {
    start() {
      if (!options.enabled || stopped) {
        closeEarly(pendingEarly);
        pendingEarly = undefined;
        return;
      }
      attempt();
    },
    connection: () => session?.pick(),
    status: () => status,
    onStatus(fn) {
      listeners.push(fn);
    },
    stats: () => session?.stats() ?? Promise.resolve(undefined),
    errors: () => errors,
    untrusted: () => untrusted,
    keyed: keys !== undefined,
    dropChannel() {
      if (!session) return false;
      session.channel.close();
      return true;
    },
    stop(reason) {
      stopped = true;
      closeEarly(pendingEarly);
      pendingEarly = undefined;
      clearTimeout(retryTimer);
      stopMonitor?.();
      const s = session;
      session = undefined;
      s?.close(reason);
    },
  };
}
