/**
 * The viewer diagnostics page's data: its messages with the shells on a BroadcastChannel, validated (any
 * same-origin script can post there), the ICE summary from getStats() (types only, never an address) and the report.
 */
import { ROUTE_REASON_PATTERN } from '@wingman/protocol';
import { DIAGNOSTICS_MAX_ERRORS } from './constants';

type CandidateType = 'host' | 'srflx' | 'prflx' | 'relay';
const CANDIDATE_TYPES: readonly string[] = ['host', 'srflx', 'prflx', 'relay'];
const PROTOCOLS: readonly string[] = ['udp', 'tcp', 'tls'];

/** The selected ICE candidate pair, by type and protocol only. */
export interface IcePair {
  local: CandidateType;
  remote: CandidateType;
  protocol: string;
  /** How a relay candidate reaches its TURN server ('udp', 'tcp', 'tls'), when the local candidate is a relay. */
  relayProtocol?: string;
}

export interface DiagError {
  /** ISO time. */
  at: string;
  /** Stable short code, e.g. 'ice-timeout', 'channel-closed'. */
  code: string;
  message: string;
}

export interface ShellSnapshot {
  sessionId: string;
  shellId: string;
  transport: 'p2p' | 'relay';
  /** Why the relay (the badge's reason), when transport is 'relay'. */
  reason?: string;
  rttMs?: number;
  connectMs?: number;
  ice?: IcePair;
  /** Bytes on the data channel, as the browser counts them. */
  bytesSent?: number;
  bytesReceived?: number;
  /** The shell holds the link key (docs/PROTOCOL.md §Verified channels). */
  keyed?: boolean;
  /** The open channel is verified (transport 'p2p'). */
  verified?: boolean;
  /** Short forms of the fingerprints the channel is bound to (shortFingerprint). */
  fingerprints?: { agent: string; viewer: string };
  /** Signaling messages and channels the link key's checks refused. */
  untrusted?: number;
  /** The open channel's loss probe (docs/PROTOCOL.md §Loss probe): probes sent and lost, and whether that made the path lossy. */
  loss?: { sent: number; lost: number; lossy: boolean };
  errors: DiagError[];
}

/** page → shells. */
export interface DiagRequest {
  type: 'wingman:diag-request';
  id: string;
}

/** shell → page, in answer to request `id`. */
export interface DiagReply {
  type: 'wingman:diag-reply';
  id: string;
  snapshot: ShellSnapshot;
}

const MAX_ID_CHARS = 64;
/** Longest free text kept (reasons, error messages): a sentence, not a log. */
const MAX_DIAG_TEXT_CHARS = 200;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS && /^[A-Za-z0-9-]+$/.test(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_DIAG_TEXT_CHARS;

/** Cuts free text to MAX_DIAG_TEXT_CHARS and masks anything shaped like an IPv4 or IPv6 address. */
export function scrubText(s: string): string {
  return s
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, '<address>')
    .replace(/\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b/gi, '<address>')
    .slice(0, MAX_DIAG_TEXT_CHARS);
}

export function parseDiagRequest(v: unknown): DiagRequest | undefined {
  if (!isObj(v) || v.type !== 'wingman:diag-request' || !isId(v.id)) return undefined;
  return { type: v.type, id: v.id };
}

function parseIce(v: unknown): IcePair | undefined {
  if (!isObj(v)) return undefined;
  const { local, remote, protocol, relayProtocol } = v;
  if (typeof local !== 'string' || !CANDIDATE_TYPES.includes(local)) return undefined;
  if (typeof remote !== 'string' || !CANDIDATE_TYPES.includes(remote)) return undefined;
  if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)) return undefined;
  if (relayProtocol !== undefined && (typeof relayProtocol !== 'string' || !PROTOCOLS.includes(relayProtocol))) return undefined;
  return { local: local as CandidateType, remote: remote as CandidateType, protocol, ...(relayProtocol ? { relayProtocol } : {}) };
}

const SHORT_FINGERPRINT = /^[0-9A-F]{2}(?::[0-9A-F]{2}){7}$/;

function parseShortFingerprints(v: unknown): { agent: string; viewer: string } | undefined {
  if (!isObj(v) || typeof v.agent !== 'string' || typeof v.viewer !== 'string') return undefined;
  return SHORT_FINGERPRINT.test(v.agent) && SHORT_FINGERPRINT.test(v.viewer) ? { agent: v.agent, viewer: v.viewer } : undefined;
}

function parseErrors(v: unknown): DiagError[] | undefined {
  if (!Array.isArray(v) || v.length > DIAGNOSTICS_MAX_ERRORS) return undefined;
  const out: DiagError[] = [];
  for (const e of v) {
    if (!isObj(e) || !isText(e.at) || !isText(e.message) || typeof e.code !== 'string' || !/^[a-z0-9-]{1,40}$/.test(e.code)) return undefined;
    out.push({ at: e.at, code: e.code, message: scrubText(e.message) });
  }
  return out;
}

/** An optional field: undefined when absent, null when present and invalid. */
const optional = <T>(v: unknown, parse: (v: unknown) => T | undefined): T | undefined | null => (v === undefined ? undefined : (parse(v) ?? null));

/** The reply's snapshot, or undefined when anything in it is off (wrong type, too long, unknown candidate type). */
export function parseDiagReply(v: unknown, id: string): ShellSnapshot | undefined {
  if (!isObj(v) || v.type !== 'wingman:diag-reply' || v.id !== id || !isObj(v.snapshot)) return undefined;
  const s = v.snapshot;
  if (!isId(s.shellId) || typeof s.sessionId !== 'string' || !/^[a-z0-9-]{1,63}$/.test(s.sessionId)) return undefined;
  if (s.transport !== 'p2p' && s.transport !== 'relay') return undefined;
  if (s.reason !== undefined && !isText(s.reason)) return undefined;
  for (const k of ['rttMs', 'connectMs', 'bytesSent', 'bytesReceived', 'untrusted'] as const) if (s[k] !== undefined && !isCount(s[k])) return undefined;
  for (const k of ['keyed', 'verified'] as const) if (s[k] !== undefined && typeof s[k] !== 'boolean') return undefined;
  const [fingerprints, ice, loss] = [optional(s.fingerprints, parseShortFingerprints), optional(s.ice, parseIce), optional(s.loss, parseLoss)];
  if (fingerprints === null || ice === null || loss === null) return undefined;
  const errors = parseErrors(s.errors);
  if (!errors) return undefined;
  const snap: ShellSnapshot = { sessionId: s.sessionId, shellId: s.shellId, transport: s.transport, errors };
  if (s.reason !== undefined) snap.reason = scrubText(s.reason);
  if (ice) snap.ice = ice;
  for (const k of ['rttMs', 'connectMs', 'bytesSent', 'bytesReceived', 'untrusted'] as const) if (s[k] !== undefined) snap[k] = s[k] as number;
  for (const k of ['keyed', 'verified'] as const) if (s[k] !== undefined) snap[k] = s[k] as boolean;
  if (fingerprints) snap.fingerprints = fingerprints;
  if (loss) snap.loss = loss;
  return snap;
}

/** A loss probe's figures: counts no larger than a probe sends, lost ≤ sent. */
function parseLoss(v: unknown): ShellSnapshot['loss'] {
  if (!isObj(v) || !isCount(v.sent) || !isCount(v.lost) || typeof v.lossy !== 'boolean') return undefined;
  if (!Number.isInteger(v.sent) || !Number.isInteger(v.lost) || v.sent > 0xffff || v.lost > v.sent) return undefined;
  return { sent: v.sent, lost: v.lost, lossy: v.lossy };
}

/** A stats entry as getStats() yields it (RTCStats fields read by name). */
export type StatsEntry = Record<string, unknown> & { id: string; type: string };

/** The selected pair (Chromium's selectedCandidatePairId, Firefox's `selected`, else nominated) and byte counts from getStats(). */
export function summarizeStats(entries: Iterable<StatsEntry>): { ice?: IcePair; bytesSent?: number; bytesReceived?: number } {
  const byId = new Map<string, StatsEntry>();
  for (const e of entries) byId.set(e.id, e);
  const all = [...byId.values()];
  const selectedId = all.find((e) => e.type === 'transport' && typeof e.selectedCandidatePairId === 'string')?.selectedCandidatePairId as string | undefined;
  const pair =
    (selectedId ? byId.get(selectedId) : undefined) ??
    all.find((e) => e.type === 'candidate-pair' && e.selected === true) ??
    all.find((e) => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded');
  const out: { ice?: IcePair; bytesSent?: number; bytesReceived?: number } = {};
  const local = pair ? byId.get(String(pair.localCandidateId)) : undefined;
  const remote = pair ? byId.get(String(pair.remoteCandidateId)) : undefined;
  if (local && remote) {
    const ice = parseIce({
      local: local.candidateType,
      remote: remote.candidateType,
      protocol: local.protocol,
      relayProtocol: local.candidateType === 'relay' ? local.relayProtocol : undefined,
    });
    if (ice) out.ice = ice;
  }
  const channels = all.filter((e) => e.type === 'data-channel');
  const counted = channels.length > 0 ? channels : pair ? [pair] : undefined;
  const sum = (k: string, list: StatsEntry[]) => list.reduce((n, e) => n + (isCount(e[k]) ? e[k] : 0), 0);
  if (counted) {
    out.bytesSent = sum('bytesSent', counted);
    out.bytesReceived = sum('bytesReceived', counted);
  }
  return out;
}

/** How many requests the Service Worker sent each way and why since it started: `"<path> <reason>"` → count. */
export type RouteCounts = Record<string, number>;

/** Service Worker → page, in answer to request `id`. */
export interface DiagRoutesReply {
  type: 'wingman:diag-routes';
  id: string;
  routes: RouteCounts;
  /** The shells the Service Worker would send a request over now: whose last word to it was an open channel. */
  channels: string[];
  /** The shells whose channel's loss probe the Service Worker counts as pending (routing rule 6 holds bursts around them). */
  probing: string[];
}

/** At most this many shell ids in a reply's `channels` (more: someone else posting on the channel). */
export const MAX_DIAG_CHANNELS = 16;

/** The reply's shells with a channel, or undefined when anything in it is off (an older SW sends none). */
export function parseDiagChannels(v: unknown, id: string): string[] | undefined {
  if (!isObj(v) || v.type !== 'wingman:diag-routes' || v.id !== id || !Array.isArray(v.channels)) return undefined;
  if (v.channels.length > MAX_DIAG_CHANNELS || !v.channels.every(isId)) return undefined;
  return [...v.channels];
}

/** At most this many distinct routes in a reply (there are about a dozen reasons). */
export const MAX_ROUTE_KINDS = 32;
/** `<path> <reason>`, the reason as the agent takes it in the route header (`relay p2p-stalls`). */
const ROUTE_KEY = new RegExp(`^(p2p|relay) ${ROUTE_REASON_PATTERN.source.slice(1)}`);

/** The reply's counts, or undefined when anything in it is off. */
export function parseDiagRoutes(v: unknown, id: string): RouteCounts | undefined {
  if (!isObj(v) || v.type !== 'wingman:diag-routes' || v.id !== id || !isObj(v.routes)) return undefined;
  const entries = Object.entries(v.routes);
  if (entries.length > MAX_ROUTE_KINDS) return undefined;
  const out: RouteCounts = {};
  for (const [k, n] of entries) {
    if (!ROUTE_KEY.test(k) || !isCount(n) || !Number.isInteger(n)) return undefined;
    out[k] = n;
  }
  return out;
}

/** What the diagnostics page knows by itself. */
export interface PageFacts {
  generatedAt: string;
  userAgent: string;
  url: string;
  serviceWorker: 'active' | 'installing' | 'none' | 'unsupported';
  /** `/__wingman/session` as fetched (parsed JSON), or the error text. */
  session: unknown;
}

export interface DiagReport extends PageFacts {
  /** One per open shell; empty when no tab of the app is open in this browser. */
  shells: ShellSnapshot[];
  /** Sum-up for a reader in a hurry: the first shell's transport, else what the session allows. */
  transport: 'p2p' | 'relay' | 'unknown';
  why?: string;
  /** The Service Worker's routes since it started (absent: no Service Worker answered). */
  routes?: RouteCounts;
  /** The shells the Service Worker knows to have an open channel (DiagRoutesReply.channels; absent: no answer). */
  swChannels?: string[];
}

/** The report: page facts plus every shell's snapshot (shells answer in any order; sorted by id for a stable text). */
export function buildReport(facts: PageFacts, shells: ShellSnapshot[], routes?: RouteCounts, swChannels?: string[]): DiagReport {
  const sorted = [...shells].sort((a, b) => (a.shellId < b.shellId ? -1 : a.shellId > b.shellId ? 1 : 0));
  const first = sorted.find((s) => s.transport === 'p2p') ?? sorted[0];
  const report: DiagReport = {
    ...facts,
    shells: sorted,
    transport: 'unknown',
    ...(routes ? { routes } : {}),
    ...(swChannels ? { swChannels: [...swChannels].sort() } : {}),
  };
  if (first) {
    report.transport = first.transport;
    if (first.transport === 'relay' && first.reason) report.why = first.reason;
    return report;
  }
  const p2p = isObj(facts.session) && isObj(facts.session.p2p) ? facts.session.p2p : undefined;
  if (p2p && p2p.enabled === false) {
    report.transport = 'relay';
    report.why = p2p.serverEnabled === false ? 'P2P disabled by the server' : p2p.agentOffered === false ? 'P2P disabled by the agent' : 'P2P disabled';
  } else {
    report.why = 'no tab of the app is open in this browser';
  }
  return report;
}
