/** Types of phase-counters.mjs, for the TypeScript tests. */
import type { DelayLineRef, DelayLineStats } from './delay-line-counters.mjs';
import type { CpuFigures, CpuSnapshot } from './cpu-sample.mjs';
import type { SnmpCounters } from './snmp.mjs';

export type CountedDelayLine = DelayLineRef & { targets: string[] };
export interface CounterSources {
  delayLines: CountedDelayLine[];
}
export interface WebrtcCounters {
  id: string;
  state: string;
  openChannels: number;
  rttMs: number | null;
  counters: Record<string, Record<string, number>>;
}
export interface Snapshot {
  atMs: number;
  hosts: Record<string, SnmpCounters | null>;
  delayLines: Record<string, DelayLineStats | null>;
  webrtc: WebrtcCounters | null;
  /** Every process of the lab's hosts (cpu-sample.mjs); absent or null: not read. */
  cpu?: CpuSnapshot | null;
}
export interface PeerPathDirection {
  sent: number;
  received: number;
  missing: number;
  delayLineDropped: number | null;
  rcvbufErrors: number | null;
}
export interface PhaseFigures {
  ms: number;
  udp: Record<string, Record<string, number> | null>;
  tcp: Record<string, Record<string, number> | null>;
  delayLine: Record<string, { written: number; lost: number; queueFull: number; to: Record<string, Record<string, number>> } | null>;
  webrtc: (Record<string, unknown> & { newConnection: boolean; rttMs: number | null }) | null;
  peerPath: { toReviewer: PeerPathDirection; toDev: PeerPathDirection } | null;
  /** The machine's and the lab's processes' CPU over the phase (cpu-sample.mjs); null when a snapshot lacked them. */
  cpu: CpuFigures | null;
}
export declare function takeSnapshot(sources: CounterSources, readWebrtc: () => Promise<WebrtcCounters | null>): Promise<Snapshot>;
export declare function webrtcFigures(before: WebrtcCounters | null, after: WebrtcCounters | null): PhaseFigures['webrtc'];
export declare function phaseFigures(before: Snapshot, after: Snapshot, sources: CounterSources): PhaseFigures;
export declare function createPhaseMeter(
  sources: CounterSources | null,
  readWebrtc: () => Promise<WebrtcCounters | null>,
): { phases: Record<string, Record<string, unknown>>; begin(name: string): Promise<void>; end(name: string, extra?: Record<string, unknown>): Promise<void> };
