/**
 * Keeps a P2P channel up for as long as the shell lives: attempts, monitors (PINGs: RTT for the badge,
 * liveness), and after a failure or a closed channel retries with capped exponential backoff, but not after
 * a permanent refusal nor past RETRY_MAX_ATTEMPTS failures in a row. Requests never wait for any of this.
 */
import { backoffDelay, type Connection } from '@wingman/protocol';
import type { DiagError } from '../shared/diagnostics';
import { AGENT_AWAY_RETRY_MS, DIAGNOSTICS_MAX_ERRORS, RETRY_BASE_MS, RETRY_MAX_ATTEMPTS, RETRY_MAX_MS } from '../shared/constants';
import type { P2PAttempt } from './attempt';
import { attemptP2P, type PeerSession } from './peer-session';
import { ATTEMPT_REASON_WORDS, AttemptError, isAttemptError } from './attempt-types';
import { linkTrustKeys } from './signal-out';
import { followLossProbe, followTurn, monitorSession, verification, type StatusView, type TransportStatus } from './transport-status';

/**
 * Session ends that mean the other end stopped answering, nothing closed:
 * the page's heartbeat ('ping timeout', transport-status.ts) and the
 * browser's ICE checks of an open channel ('ICE failed', attempt.ts), which
 * notice a frozen or vanished peer within a second of each other. Both are
 * `channel unresponsive`, whichever notices first; any other end is
 * `channel closed`.
 */
const UNANSWERED: ReadonlySet<string> = new Set(['ping timeout', 'ICE failed']);

export type { TransportStatus } from './transport-status';

export type P2PManager = ReturnType<typeof createP2PManager>;

/** `adopted`: the attempt the shell's inline script started (attempt.ts), carried on as the first one. */
export function createP2PManager(options: { enabled: boolean; adopted?: P2PAttempt | undefined; linkKey?: string | undefined }) {
  const keys = linkTrustKeys(options.linkKey);
  let untrusted = 0;
  let status: TransportStatus = options.enabled ? { transport: 'relay', reason: 'connecting' } : { transport: 'relay', reason: ATTEMPT_REASON_WORDS.disabled };
  const listeners: Array<(s: TransportStatus) => void> = [];
  let session: PeerSession | undefined;
  let failures = 0;
  let stopped = false;
  let running = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let stopMonitor: (() => void) | undefined;
  let adopted = options.adopted;
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
    const first = adopted;
    adopted = undefined;
    attemptP2P(first, keys, (code, message) => {
      untrusted++;
      logError(code, message);
      console.warn(`wingman: ${message}`);
    }).then(
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
          ...verification(s),
          ...(probing ? { probing: true } : {}),
          off: s.switchedOff,
        });
        const view: StatusView = { current: () => session === s, status: () => status, setStatus };
        followTurn(s, view);
        if (probing) followLossProbe(s, view);
        stopMonitor?.();
        stopMonitor = monitorSession(s, view);
        s.onClosed((reason) => {
          if (session !== s) return;
          session = undefined;
          stopMonitor?.();
          const unresponsive = UNANSWERED.has(reason);
          logError(unresponsive ? 'channel-unresponsive' : 'channel-closed', reason);
          setStatus({ transport: 'relay', reason: unresponsive ? 'channel unresponsive' : 'channel closed' });
          schedule(RETRY_BASE_MS);
        });
      },
      (err: unknown) => {
        running = false;
        const e = isAttemptError(err) ? err : new AttemptError('signaling', String(err));
        logError(e.reason, e.message);
        setStatus({ transport: 'relay', reason: ATTEMPT_REASON_WORDS[e.reason] });
        if (e.permanent) return;
        if (e.reason === 'offline') return schedule(AGENT_AWAY_RETRY_MS);
        failures++;
        if (failures >= RETRY_MAX_ATTEMPTS) return setStatus({ transport: 'relay', reason: `${ATTEMPT_REASON_WORDS[e.reason]} · gave up` });
        schedule(backoffDelay(failures, { initialMs: RETRY_BASE_MS, maxMs: RETRY_MAX_MS, jitter: false }));
      },
    );
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(attempt, delayMs);
  }

  return {
    start(): void {
      if (!options.enabled || stopped) return void adopted?.close('P2P off');
      attempt();
    },
    /** The channel's connection, while it is ready (the request server and the WebSocket bridge use it). */
    connection: (): Connection | undefined => (session?.connection.isReady ? session.connection : undefined),
    status: (): TransportStatus => status,
    onStatus(fn: (s: TransportStatus) => void): void {
      listeners.push(fn);
    },
    stats: (): Promise<RTCStatsReport | undefined> => session?.stats() ?? Promise.resolve(undefined),
    /** Recent failures, oldest first (at most DIAGNOSTICS_MAX_ERRORS). */
    errors: (): readonly DiagError[] => errors,
    /** Signaling messages and channels the link key's checks refused, since the shell started. */
    untrusted: () => untrusted,
    /** Whether the shell holds a link key (its channel is verified, or not used). */
    keyed: keys !== undefined,
    /** Debugging and tests: close the data channel as a network failure would (the manager then reconnects). */
    dropChannel(): boolean {
      if (!session) return false;
      session.channel.close();
      return true;
    },
    /** Closes the channel and stops retrying (the page is going away). */
    stop(reason: string): void {
      stopped = true;
      adopted?.close(reason);
      adopted = undefined;
      clearTimeout(retryTimer);
      stopMonitor?.();
      const s = session;
      session = undefined;
      s?.close(reason);
    },
  };
}
