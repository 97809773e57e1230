/**
 * The shell's side of the diagnostics page: answers each valid request on
 * BroadcastChannel(DIAGNOSTICS_CHANNEL) with a snapshot of its transport
 * (status, selected ICE pair types, channel byte counts, recent errors).
 * Free text is scrubbed of anything address-shaped before it leaves.
 */
import { DIAGNOSTICS_CHANNEL } from '../shared/constants';
import { parseDiagRequest, scrubText, summarizeStats, type DiagReply, type ShellSnapshot, type StatsEntry } from '../shared/diagnostics';
import { shortFingerprint } from '@wingman/protocol';
import type { P2PManager } from './p2p';
import { quietly } from '../shared/quietly';

interface DiagnosticsSourceOptions {
  sessionId: string;
  shellId: string;
  p2p: Pick<P2PManager, 'status' | 'stats' | 'errors' | 'untrusted' | 'keyed'>;
}

async function shellSnapshot(options: DiagnosticsSourceOptions): Promise<ShellSnapshot> {
  const status = options.p2p.status();
  const snap: ShellSnapshot = {
    sessionId: options.sessionId,
    shellId: options.shellId,
    transport: status.transport,
    errors: options.p2p.errors().map((e) => ({ at: e.at, code: e.code, message: scrubText(e.message) })),
    keyed: options.p2p.keyed,
    untrusted: options.p2p.untrusted(),
  };
  if (status.transport === 'relay') {
    snap.reason = scrubText(status.reason);
    return snap;
  }
  if (status.rttMs !== undefined) snap.rttMs = status.rttMs;
  snap.verified = status.verified;
  if (status.fingerprints) snap.fingerprints = { agent: shortFingerprint(status.fingerprints.agent), viewer: shortFingerprint(status.fingerprints.viewer) };
  snap.connectMs = Math.round(status.connectMs);
  if (status.loss) snap.loss = { ...status.loss, lossy: status.lossy === true };
  const report = await options.p2p.stats().catch(() => undefined);
  if (report) Object.assign(snap, summarizeStats(report.values() as Iterable<StatsEntry>));
  return snap;
}

/** Starts answering; returns a function that stops (closes the channel). No-op where BroadcastChannel is missing. */
export function startDiagnosticsSource(options: DiagnosticsSourceOptions): () => void {
  if (typeof BroadcastChannel !== 'function') return () => undefined;
  const channel = new BroadcastChannel(DIAGNOSTICS_CHANNEL);
  channel.onmessage = (ev: MessageEvent) => {
    const req = parseDiagRequest(ev.data);
    if (!req) return;
    void shellSnapshot(options).then((snapshot) => {
      // The channel may have closed while the stats were read.
      quietly(() => channel.postMessage({ type: 'wingman:diag-reply', id: req.id, snapshot } satisfies DiagReply));
    });
  };
  return () => channel.close();
}
