/**
 * The lab's transport figures (scripts/lab: snmp, delay-line-counters,
 * counter-delta, stalls, phase-counters, transport-report, repeats): parsing
 * and arithmetic over counters, no lab needed. The counters themselves are
 * read for real in the lab suite (test/lab/lab.test.ts: the delay-line check).
 */
import { counterDelta } from '../../scripts/lab/counter-delta.mjs';
import { parseDelayLineStats } from '../../scripts/lab/delay-line-counters.mjs';
import { createPhaseMeter, phaseFigures, type Snapshot } from '../../scripts/lab/phase-counters.mjs';
import { medianRows } from '../../scripts/lab/repeats.mjs';
import { parseSnmp, readSnmp } from '../../scripts/lab/snmp.mjs';
import { stallFigures } from '../../scripts/lab/stalls.mjs';
import { describePhase, formatTransportLines } from '../../scripts/lab/transport-report.mjs';

/** /proc/net/snmp as Linux 6.x writes it (IcmpMsg only once an ICMP message was counted). */
const SNMP = `Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
Ip: 2 64 130640 0 0 0 0 0 130640 120469 0 0 0 0 0 0 0 0 0 120469
Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps
Icmp: 1 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
IcmpMsg: InType3
IcmpMsg: 1
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 118 2 0 0 0 130404 120235 17 0 214 0
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 235 4 31 236 30 1 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`;

describe('lab transport figures', () => {
  it("parses /proc/net/snmp's UDP and TCP counters, and reads this process's namespace", () => {
    expect(parseSnmp(SNMP)).toEqual({
      udp: { InDatagrams: 235, OutDatagrams: 236, NoPorts: 4, InErrors: 31, RcvbufErrors: 30, SndbufErrors: 1 },
      tcp: { InSegs: 130404, OutSegs: 120235, RetransSegs: 17 },
    });
    const own = readSnmp(process.pid);
    expect(Object.keys(own.udp)).toEqual(['InDatagrams', 'OutDatagrams', 'NoPorts', 'InErrors', 'RcvbufErrors', 'SndbufErrors']);
    expect(Object.values(own.tcp).every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
  });

  it('rejects a file that is not header/value pairs or lacks a counter', () => {
    expect(() => parseSnmp('Udp: InDatagrams NoPorts\nUdp: 1\n')).toThrow('lines 1-2 are not a header and its values');
    expect(() => parseSnmp('Udp: InDatagrams\nUdp: 1\nTcp: InSegs OutSegs RetransSegs\nTcp: 1 2 3\n')).toThrow('Udp OutDatagrams missing');
    expect(() =>
      parseSnmp(
        SNMP.split('\n')
          .filter((l) => !l.startsWith('Tcp:'))
          .join('\n'),
      ),
    ).toThrow('no Tcp line');
  });

  it("parses the delay line's stats line and rejects anything else", () => {
    const line =
      '{"event":"stats","dump":2,"read":21,"written":17,"lost":4,"queueFull":0,"unmatched":1,"queued":0,"rules":[{"dst":"10.231.9.1/32","matched":10,"written":6,"lost":4,"queueFull":0}]}';
    expect(parseDelayLineStats(line)).toEqual({
      dump: 2,
      read: 21,
      written: 17,
      lost: 4,
      queueFull: 0,
      unmatched: 1,
      rules: [{ dst: '10.231.9.1/32', matched: 10, written: 6, lost: 4, queueFull: 0 }],
    });
    expect(() => parseDelayLineStats('{"event":"ready","dev":"wmdelay"}')).toThrow('not a delay-line stats line');
    expect(() => parseDelayLineStats(line.replace('"lost":4,"queueFull":0,"unmatched"', '"lost":-4,"queueFull":0,"unmatched"'))).toThrow('lost is not a count');
    expect(() => parseDelayLineStats(line.replace('"matched":10', '"matched":"10"'))).toThrow('a rule without its counters');
  });

  it('subtracts counters through nested objects and arrays; a counter absent before counts from zero', () => {
    expect(
      counterDelta({ a: 10, b: { c: 5, d: 'x' }, rules: [{ n: 4 }, { n: 9 }], fresh: 3 }, { a: 4, b: { c: 5, d: 'y' }, rules: [{ n: 1 }, { n: 2 }] }),
    ).toEqual({
      a: 6,
      b: { c: 0, d: 'x' },
      rules: [{ n: 3 }, { n: 7 }],
      fresh: 3,
    });
    expect(counterDelta({ a: 1 }, null)).toEqual({ a: 1 });
  });

  it('marks requests slower than max(3 × p50, p50 + 200 ms) as stalled and sums their time above p50', () => {
    const fast = Array.from({ length: 9 }, (_, i) => ({ name: `/m${i}.js`, ms: 50 }));
    const s = stallFigures([...fast, { name: '/slow.js', ms: 1500 }, { name: '/edge.js', ms: 250 }]);
    expect(s).toEqual({
      count: 11,
      p50Ms: 50,
      p90Ms: 250,
      maxMs: 1500,
      thresholdMs: 250,
      stalled: 1,
      stalledExcessMs: 1450,
      slowest: [{ name: '/slow.js', ms: 1500 }],
    });
    // A slow load's p50 sets the bar at 3× it.
    const slow = stallFigures([
      { name: '/a', ms: 400 },
      { name: '/b', ms: 400 },
      { name: '/c', ms: 1300 },
    ]);
    expect([slow.thresholdMs, slow.stalled, slow.stalledExcessMs]).toEqual([1200, 1, 900]);
    expect(stallFigures([])).toEqual({ count: 0, p50Ms: null, p90Ms: null, maxMs: null, thresholdMs: null, stalled: 0, stalledExcessMs: 0, slowest: [] });
  });

  const sources = {
    delayLines: [
      { role: 'reviewer' as const, pid: 1, statsFile: '/x', targets: ['server', 'dev', 'dev'] },
      { role: 'dev' as const, pid: 2, statsFile: '/y', targets: ['server', 'reviewer'] },
    ],
  };
  const host = (udpIn: number, udpOut: number, rcvbuf: number, retrans: number) => ({
    udp: { InDatagrams: udpIn, OutDatagrams: udpOut, NoPorts: 0, InErrors: rcvbuf, RcvbufErrors: rcvbuf, SndbufErrors: 0 },
    tcp: { InSegs: 0, OutSegs: 0, RetransSegs: retrans },
  });
  const line = (dump: number, rules: Array<[number, number, number]>) => ({
    dump,
    read: 0,
    written: rules.reduce((s, r) => s + r[1], 0),
    lost: rules.reduce((s, r) => s + r[2], 0),
    queueFull: 0,
    unmatched: 0,
    rules: rules.map(([matched, written, lost], i) => ({ dst: `10.231.0.${i}/32`, matched, written, lost, queueFull: 0 })),
  });
  const peer = (id: string, sent: number, received: number) => ({
    id,
    state: 'connected',
    openChannels: 1,
    rttMs: 21.5,
    counters: { pair: { packetsSent: sent, packetsReceived: received }, transport: { packetsSent: sent, packetsReceived: received } },
  });

  it("gives a phase's drops per namespace and per destination, and the P2P datagrams each way that never arrived", () => {
    const before: Snapshot = {
      atMs: 1000,
      hosts: { reviewer: host(100, 50, 0, 0), dev: host(40, 100, 0, 2) },
      delayLines: {
        reviewer: line(1, [
          [5, 5, 0],
          [10, 10, 0],
          [0, 0, 0],
        ]),
        dev: line(1, [
          [5, 5, 0],
          [100, 98, 2],
        ]),
      },
      webrtc: peer('a', 50, 90),
    };
    const after: Snapshot = {
      atMs: 4000,
      // The reviewer's socket overflowed 30 times; the dev host sent 1000 datagrams, retransmitted 3 TCP segments.
      hosts: { reviewer: host(1040, 250, 30, 0), dev: host(230, 1100, 0, 5) },
      delayLines: {
        reviewer: line(2, [
          [6, 6, 0],
          [100, 95, 5],
          [110, 108, 2],
        ]),
        dev: line(2, [
          [6, 6, 0],
          [1100, 1080, 20],
        ]),
      },
      webrtc: peer('a', 250, 1030),
    };
    const p = phaseFigures(before, after, sources);
    expect(p.ms).toBe(3000);
    expect(p.udp.reviewer).toEqual({ InDatagrams: 940, OutDatagrams: 200, NoPorts: 0, InErrors: 30, RcvbufErrors: 30, SndbufErrors: 0 });
    expect(p.tcp.dev).toEqual({ InSegs: 0, OutSegs: 0, RetransSegs: 3 });
    // The reviewer's two rules towards the dev host (its LAN and WAN address) are one destination.
    expect(p.delayLine.reviewer).toEqual({
      written: 194,
      lost: 7,
      queueFull: 0,
      to: { server: { matched: 1, written: 1, lost: 0, queueFull: 0 }, dev: { matched: 200, written: 193, lost: 7, queueFull: 0 } },
    });
    expect(p.webrtc).toEqual({
      newConnection: false,
      state: 'connected',
      openChannels: 1,
      rttMs: 21.5,
      pair: { packetsSent: 200, packetsReceived: 940 },
      transport: { packetsSent: 200, packetsReceived: 940 },
    });
    // Sent: what left the sender's delay line towards the other host (written or dropped there).
    expect(p.peerPath).toEqual({
      toReviewer: { sent: 1000, received: 940, missing: 60, delayLineDropped: 18, rcvbufErrors: 30 },
      toDev: { sent: 200, received: 190, missing: 10, delayLineDropped: 7, rcvbufErrors: 0 },
    });
    // A TURN pair: nothing went straight between the hosts, so no direct-path figures.
    const viaTurn = { ...after, delayLines: { reviewer: before.delayLines.reviewer, dev: before.delayLines.dev } };
    expect(phaseFigures(before, viaTurn, sources).peerPath).toBeNull();
    // A reload's new connection counts from zero.
    const reloaded = phaseFigures(before, { ...after, webrtc: peer('b', 20, 30) }, sources);
    expect(reloaded.webrtc).toMatchObject({ newConnection: true, pair: { packetsSent: 20, packetsReceived: 30 } });
    // No peer connection (relay only): no P2P figures.
    expect(phaseFigures({ ...before, webrtc: null }, { ...after, webrtc: null }, sources).peerPath).toBeNull();
  });

  it('records only the extra figures of a phase when there are no counters to read (not a WAN run)', async () => {
    const meter = createPhaseMeter(null, async () => null);
    await meter.begin('cold');
    await meter.end('cold', { stalls: { count: 0 } });
    await meter.begin('download');
    await meter.end('download');
    expect(meter.phases).toEqual({ cold: { stalls: { count: 0 } } });
  });

  it('prints one transport line per WAN row, naming only what happened', () => {
    const phases = {
      cold: { stalls: stallFigures([...Array.from({ length: 9 }, () => ({ name: '/a', ms: 50 })), { name: '/slow', ms: 1050 }]) },
      download: {
        udp: { reviewer: { RcvbufErrors: 120, SndbufErrors: 0 }, dev: { RcvbufErrors: 0, SndbufErrors: 0 } },
        tcp: { reviewer: { RetransSegs: 0 }, dev: { RetransSegs: 0 }, server: { RetransSegs: 4 } },
        delayLine: { dev: { lost: 300, queueFull: 0 } },
        peerPath: { toReviewer: { missing: 420 }, toDev: { missing: 3 } },
        webrtc: { rttMs: 24.1 },
        cpu: { msByRole: { reviewer: 812.4, dev: 0, server: 30 } },
      },
    };
    expect(describePhase(phases.download)).toBe(
      'UDP receive-buffer drops reviewer 120; delay-line loss at dev 300; TCP retransmitted segments server 4; CPU ms reviewer 812, server 30; P2P datagrams missing →reviewer 420, →dev 3; pair RTT 24.1 ms',
    );
    expect(
      formatTransportLines([
        { scenario: 'lossy-mobile', mode: 'p2p', phases },
        { scenario: 'x', mode: 'direct' },
      ]),
    ).toBe(
      '- lossy-mobile [p2p] transport: cold: requests p50 50 / p90 50 ms, 1 of 10 stalled (> 250 ms, +1000 ms over p50) | 20 MiB down: ' +
        describePhase(phases.download),
    );
  });

  it('takes medians of the transport figures under --repeat, and keeps no samples of a figure no run has', () => {
    const run = (stalled: number, rcvbuf: number) => ({
      scenario: 'lossy-mobile',
      mode: 'p2p',
      ok: true,
      failed: [],
      phases: { cold: { stalls: { stalled, stalledExcessMs: stalled * 100, p50Ms: 40 } }, download: { udp: { reviewer: { RcvbufErrors: rcvbuf } } } },
    });
    const [row] = medianRows([run(1, 500), run(7, 100), run(3, 300)]) as Array<Record<string, any>>;
    expect(row.phases.cold.stalls).toEqual({ stalled: 3, stalledExcessMs: 300, p50Ms: 40 });
    expect(row.phases.download.udp.reviewer.RcvbufErrors).toBe(300);
    expect(row.samples['phases.download.udp.reviewer.RcvbufErrors']).toEqual([500, 100, 300]);
    expect(row.samples['phases.upload.udp.reviewer.RcvbufErrors']).toBeUndefined();
  });
});
