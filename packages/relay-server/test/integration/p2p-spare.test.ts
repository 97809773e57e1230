/**
 * The P2P host's spare peer connection (src/p2p/spare-peer.ts) with real
 * @roamhq/wrtc peers on loopback: each offer is answered from a connection
 * whose candidates were gathered before it came, a new spare is ready for the
 * next viewer (after the ICE servers changed, one for the new servers), and no candidate reaches
 * the viewer twice (in the answer and trickled).
 */
import type { HostSignal } from '@wingman/protocol';
import { createPeerHost, type PeerHost, type PeerReport } from '../../src/p2p/peer-host';
import { candidateKey } from '../../src/p2p/candidates';
import { createPeerConnection, type RtcPeerConnection } from '../../src/p2p/webrtc';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let host: PeerHost | undefined;
const viewers: RtcPeerConnection[] = [];

afterEach(() => {
  host?.close();
  host = undefined;
  for (const pc of viewers.splice(0)) pc.close();
});

/** A host whose signals (per viewer) and reports are recorded. */
function startHost() {
  const signals = new Map<string, HostSignal[]>();
  const reports: PeerReport[] = [];
  host = createPeerHost({
    handleStream: (stream) => stream.reset('ERR_PROTOCOL', 'not in this test'),
    sendSignal: (viewerId, message) => void signals.set(viewerId, [...(signals.get(viewerId) ?? []), message]),
    report: (r) => reports.push(r),
    connectTimeoutMs: 8_000,
    acceptLoopbackCandidates: true,
  });
  return { host, signals, reports };
}

/**
 * One viewer through to an open channel: a real offer (its candidates in its
 * SDP), the host's answer and trickled candidates applied as they come.
 * Returns the host's connected report for it.
 */
async function connectViewer(h: ReturnType<typeof startHost>, viewerId: string): Promise<PeerReport> {
  const pc = createPeerConnection({});
  viewers.push(pc);
  pc.createDataChannel('wingman');
  const gathered = new Promise<void>((resolve) => (pc.onicecandidate = (ev) => ev.candidate === null && resolve()));
  await pc.setLocalDescription(await pc.createOffer());
  await gathered;
  h.host.handleSignal(viewerId, { type: 'offer', sdp: pc.localDescription!.sdp });
  let applied = 0;
  let answered = false;
  return until(
    async () => {
      const from = h.signals.get(viewerId) ?? [];
      for (; applied < from.length; applied++) {
        const m = from[applied]!;
        if (m.type === 'answer') {
          await pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
          answered = true;
        } else if (m.type === 'ice-candidate' && answered) await pc.addIceCandidate(m.candidate).catch(() => undefined);
      }
      return h.reports.find((r) => r.viewerId === viewerId && r.state === 'connected');
    },
    { timeoutMs: 10_000, intervalMs: 10, what: `${viewerId}'s channel` },
  );
}

/** The candidates a viewer got: those its answer carried and those trickled, by candidateKey. */
function candidatesSent(signals: HostSignal[]): string[] {
  const keys: string[] = [];
  for (const m of signals) {
    if (m.type === 'answer')
      keys.push(
        ...m.sdp
          .split(/\r?\n/)
          .filter((l) => l.startsWith('a=candidate:'))
          .map(candidateKey),
      );
    if (m.type === 'ice-candidate') keys.push(candidateKey(m.candidate.candidate));
  }
  return keys;
}

describe('P2P host: the spare peer connection', () => {
  it('answers each viewer from a pre-gathered spare and makes the next one after it', async () => {
    const h = startHost();
    for (const viewerId of ['v1', 'v2', 'v3']) {
      const report = await connectViewer(h, viewerId);
      expect(report).toEqual(expect.objectContaining({ state: 'connected', preGathered: true }));
    }
  });

  it('sends each candidate once: none the answer carries is trickled again', async () => {
    const h = startHost();
    await connectViewer(h, 'v1');
    const sent = candidatesSent(h.signals.get('v1')!);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((k, i) => sent.indexOf(k) !== i)).toEqual([]);
  });

  it('drops the spare when the ICE servers change, and makes one for the new servers once the next viewer is connected', async () => {
    const h = startHost();
    await connectViewer(h, 'v1');
    // New TURN credentials come right before an offer: that offer gets a connection of its own.
    h.host.setIceServers([]);
    expect(await connectViewer(h, 'v2')).toEqual(expect.objectContaining({ preGathered: false }));
    expect(await connectViewer(h, 'v3')).toEqual(expect.objectContaining({ preGathered: true }));
  });
});
