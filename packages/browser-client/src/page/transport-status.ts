/**
 * The shell's transport status, and what a live P2P session adds to it as it
 * learns: a TURN pair (getStats), the loss probe's verdict, the RTT and
 * liveness of the heartbeat.
 */
import { startHeartbeat, type ChannelFingerprints, type SpeedSwitch } from '@wingman/protocol';
import { LOSS_PROBE_HOLD_MS, MAX_MISSED_PINGS, RTT_INTERVAL_MS, RTT_PING_TIMEOUT_MS } from '../shared/constants';
import { summarizeStats, type StatsEntry } from '../shared/diagnostics';
import type { PeerSession } from './peer-session';
import { mark } from './timeline';

export type TransportStatus =
  | {
      transport: 'p2p';
      rttMs: number | undefined;
      connectMs: number;
      viewerId: string;
      /** The selected candidate pair has a TURN relay at either end (known shortly after the channel opens). */
      turn?: boolean;
      /** The loss probe found the peer path lossy (docs/PROTOCOL.md §Loss probe): ShellAnnounce.lossy. */
      lossy?: boolean;
      /** The channel's loss probe has called the path neither lossy nor clean yet: ShellAnnounce.probing. */
      probing?: boolean;
      /** The loss probe's figures once it ended: probes sent, and lost. */
      loss?: { sent: number; lost: number };
      /** The channel ends at the holder of the link key (docs/PROTOCOL.md §Verified channels). */
      verified: boolean;
      /** The DTLS fingerprints the binding covered (verified channels). */
      fingerprints?: ChannelFingerprints;
      /** The speed mechanisms the server switched off (the hello's p2p settings), for the Service Worker. */
      off?: SpeedSwitch[];
    }
  | { transport: 'relay'; reason: string };

/** The manager's status as one session sees it: `current()` is false once the session is no longer the manager's. */
export interface StatusView {
  current(): boolean;
  status(): TransportStatus;
  setStatus(s: TransportStatus): void;
}

export function verification(s: PeerSession): { verified: boolean; fingerprints?: ChannelFingerprints } {
  return { verified: s.verified, ...(s.fingerprints ? { fingerprints: s.fingerprints } : {}) };
}

/** The pair's candidate types come from getStats(), a moment after the channel opened. */
export function followTurn(s: PeerSession, view: StatusView): void {
  void s
    .stats()
    .then((report) => {
      const status = view.status();
      const ice = report && summarizeStats(report.values() as Iterable<StatsEntry>).ice;
      if (!view.current() || !ice || (ice.local !== 'relay' && ice.remote !== 'relay') || status.transport !== 'p2p') return;
      view.setStatus({ ...status, turn: true });
    })
    .catch(() => undefined);
}

/** The loss probe's verdict into the status: `probing` until it is known or LOSS_PROBE_HOLD_MS passed, then `lossy` and the figures. */
export function followLossProbe(s: PeerSession, view: StatusView): void {
  mark('loss-probe');
  /** The status without `probing`, when it is still this session's. */
  const settled = () => {
    clearTimeout(hold);
    const status = view.status();
    if (!view.current() || status.transport !== 'p2p') return undefined;
    const { probing: _, ...rest } = status;
    return rest;
  };
  const clearProbing = () => {
    const now = settled();
    if (now) view.setStatus(now);
  };
  // The page's bursts wait for no verdict longer than this (an agent without the probe channel answers nothing).
  const hold = setTimeout(() => {
    const status = view.status();
    if (status.transport === 'p2p' && status.probing) clearProbing();
  }, LOSS_PROBE_HOLD_MS);
  void s
    .lossProbe({
      onLossy: () => {
        mark('lossy');
        const now = settled();
        if (now) view.setStatus({ ...now, lossy: true });
      },
      onEarlyClean: () => {
        mark('loss-clean');
        clearProbing();
      },
    })
    .then((r) => {
      const now = settled();
      if (!now) return;
      // The whole measurement is the verdict: probes the gap rule counted lost early that came
      // back after all were reordered, not lost, and take back the early lossy verdict.
      const { lossy: early, ...rest } = now;
      const lossy = r ? r.lossy : early === true;
      view.setStatus({ ...rest, ...(lossy ? { lossy: true } : {}), ...(r ? { loss: { sent: r.sent, lost: r.lost } } : {}) });
    });
}

/** The session's heartbeat: RTT into the status (the first one reported to the agent), a dead channel closed. Returns its stop. */
export function monitorSession(s: PeerSession, view: StatusView): () => void {
  let reported = false;
  // A PING stuck behind a bulk upload on a lossy path is not a dead channel: see ChannelLiveness.
  return startHeartbeat(s.connection, {
    intervalMs: RTT_INTERVAL_MS,
    timeoutMs: RTT_PING_TIMEOUT_MS,
    maxMissed: MAX_MISSED_PINGS,
    bufferedAmount: () => s.channel.bufferedAmount,
    immediate: true,
    onRtt: (ms) => {
      if (!view.current()) return;
      const rttMs = Math.round(ms * 10) / 10;
      // What the channel's status learned since it opened (turn, the loss probe's verdict and figures) stays.
      const status = view.status();
      const learned = status.transport === 'p2p' ? status : {};
      view.setStatus({ ...learned, transport: 'p2p', rttMs, connectMs: s.connectMs, viewerId: s.viewerId, ...verification(s) });
      if (!reported) {
        reported = true;
        s.reportRtt(rttMs);
      }
    },
    onDead: () => {
      if (view.current()) s.close('ping timeout');
    },
  });
}
