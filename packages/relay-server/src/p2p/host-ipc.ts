/**
 * Messages between the agent and its P2P host process over Node's IPC
 * channel. A native crash can cut one mid-way: each is checked before use
 * (zod, and the protocol's own parsers for signaling and ICE servers).
 */
import {
  EXCHANGE_ID_PATTERN,
  isCodeOf,
  LINK_KEY_PATTERN,
  isSessionLabel,
  parseHostSignal,
  parseIceServers,
  parseViewerSignal,
  ProtocolError,
  SIGNALING_ERROR_CODES,
  type HostSignal,
  type IceServer,
  type ViewerSignal,
} from '@wingman/protocol';
import { z } from 'zod';
import { MAX_HEADER_EDITS, MAX_HEADER_RULE_VALUE_CHARS, type HeaderRules } from '../forward/header-rules';
import {
  MAX_CAPTURE_BODY_LIMIT_BYTES,
  MAX_ROUTES,
  routePrefixProblem,
  type RouteSpec,
  type Capture,
  type CapturedBody,
  type HostHeaderMode,
  type RequestLogEntry,
  type Target,
} from '../forward';
import type { LinkTrust, PeerReport, UntrustedEvent } from './peer-host';

/** What the child needs to serve P2P streams on its own: the forwarder's and the peer host's settings. */
export interface HostInit {
  t: 'init';
  target: Target;
  routes?: RouteSpec[];
  hostHeader: HostHeaderMode;
  timeoutMs?: number;
  wsMaxMessageBytes?: number;
  iceServers: IceServer[];
  connectTimeoutMs: number;
  maxPeers?: number;
  /** Capture P2P exchanges for the inspector, keeping this many bytes per body; undefined: no capture. */
  captureBodyLimitBytes?: number;
  /** The tunnel server is on loopback, so viewers are on this machine. */
  acceptLoopbackCandidates?: boolean;
  trust?: LinkTrust;
  headerRules?: HeaderRules;
}

/**
 * A captured body as bytes (`advanced` serialization, V8's structured
 * clone): as base64 in JSON it cost ~14 % of the P2P host's CPU in a Vite
 * cold visit (lab, CPU profile).
 */
export type WireBody = Omit<CapturedBody, 'data'> & { data: Uint8Array };

export type WireCapture = Omit<Capture, 'requestBody' | 'responseBody'> & { requestBody: WireBody; responseBody: WireBody };

export type ToHost =
  | HostInit
  | { t: 'signal'; viewerId: string; message: ViewerSignal }
  | { t: 'viewer-left'; viewerId: string }
  | { t: 'close-peer'; viewerId: string; reason: string }
  | { t: 'ice-servers'; iceServers: IceServer[] }
  | { t: 'trust'; trust?: LinkTrust }
  /** The agent's answer to the host's claim `seq` (forward/exchange-record.ts). */
  | { t: 'claimed'; seq: number; won: boolean }
  | { t: 'close' };

export type FromHost =
  | { t: 'ready' }
  | { t: 'signal'; viewerId: string; message: HostSignal }
  | { t: 'report'; report: PeerReport }
  | { t: 'rtt'; viewerId: string; rttMs: number }
  | { t: 'untrusted'; event: UntrustedEvent }
  | { t: 'request'; entry: RequestLogEntry }
  | { t: 'capture'; capture: WireCapture }
  /** A claim on an exchange with an id, before it is forwarded: the agent answers `claimed`. */
  | { t: 'claim'; seq: number; viewerId: string; id: string }
  /** A won claim's exchange ended. */
  | { t: 'claim-ended'; viewerId: string; id: string };

/** What the host process sends per exchange: batched (HostBatch), since a module wave is hundreds of exchanges. */
export type PerExchange = Extract<FromHost, { t: 'request' | 'capture' }>;

/** Per-exchange messages of one turn of the host in one IPC message: each costs a pipe write and read, per request of a burst. */
export type HostBatch = { t: 'batch'; messages: PerExchange[] };

/** The host sends a batch when it is full; the agent drops a longer one. */
export const MAX_HOST_BATCH = 64;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

/** Longest viewer id taken from the host process: the server's ids are far shorter. */
const MAX_WIRE_VIEWER_ID_CHARS = 256;
const isViewerId = (v: unknown): v is string => isString(v) && v.length > 0 && v.length <= MAX_WIRE_VIEWER_ID_CHARS;
const durationMs = () => z.number().finite().nonnegative();

const peerReportSchema = z.object({
  viewerId: z.string().min(1).max(MAX_WIRE_VIEWER_ID_CHARS),
  state: z.enum(['connected', 'failed', 'closed']),
  reason: z.string().max(1024).optional(),
  connectMs: durationMs().optional(),
  rttMs: durationMs().optional(),
  verified: z.boolean().optional(),
});
const linkTrustSchema = z.object({
  linkKey: z.string().regex(LINK_KEY_PATTERN),
  // A random id or a stable name (--name).
  sessionId: z.string().refine(isSessionLabel, 'not a session id or name'),
  required: z.boolean().optional(),
});
const untrustedSchema = z.object({
  viewerId: z.string().min(1).max(MAX_WIRE_VIEWER_ID_CHARS),
  what: z.enum(['signal-mac', 'channel-binding']),
  reason: z.string().max(1024),
  count: z.number().int().nonnegative(),
});
const iceServersSchema = z.unknown().transform((v, ctx): IceServer[] => {
  try {
    return parseIceServers(v);
  } catch (err) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
    return z.NEVER;
  }
});
const headerPair = z.tuple([z.string().min(1).max(256), z.string().max(MAX_HEADER_RULE_VALUE_CHARS)]);
const headerEditsSchema = z
  .object({
    remove: z.array(z.string().min(1).max(256)).max(MAX_HEADER_EDITS),
    set: z.array(headerPair).max(MAX_HEADER_EDITS),
    add: z.array(headerPair).max(MAX_HEADER_EDITS),
  })
  .strict();
const targetSchema = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(0).max(65_535),
  scheme: z.enum(['http', 'https']).optional(),
  // A CA bundle the developer named (--target-ca): PEM text, a few KiB a certificate.
  ca: z.string().max(1_048_576).optional(),
  insecure: z.boolean().optional(),
});
const hostInitSchema = z.object({
  t: z.literal('init'),
  target: targetSchema,
  routes: z
    .array(z.object({ prefix: z.string().refine((p) => routePrefixProblem(p) === undefined, 'not a route prefix'), target: targetSchema }))
    .max(MAX_ROUTES)
    .optional(),
  hostHeader: z.string().max(1024),
  timeoutMs: durationMs().optional(),
  wsMaxMessageBytes: z.number().int().positive().optional(),
  iceServers: iceServersSchema,
  connectTimeoutMs: durationMs(),
  maxPeers: z.number().int().nonnegative().optional(),
  captureBodyLimitBytes: z.number().int().min(0).max(MAX_CAPTURE_BODY_LIMIT_BYTES).optional(),
  acceptLoopbackCandidates: z.boolean().optional(),
  trust: linkTrustSchema.optional(),
  headerRules: z.object({ request: headerEditsSchema.optional(), response: headerEditsSchema.optional() }).strict().optional(),
}) satisfies z.ZodType<HostInit, z.ZodTypeDef, unknown>;
const requestEntrySchema = z.object({
  method: z.string().min(1).max(64),
  target: z.string().max(65_536),
  status: z.number().int().min(0).max(999),
  ms: durationMs(),
  transport: z.enum(['relay', 'p2p']),
  error: z.string().max(64).optional(),
  mount: z.string().max(256).optional(),
});

/** Checks a message from the host process; undefined when it is not one we know. */
export function parseFromHost(m: unknown): FromHost | undefined {
  if (!isObject(m)) return undefined;
  switch (m.t) {
    case 'ready':
      return { t: 'ready' };
    case 'signal': {
      const viewerId = m.viewerId;
      return isViewerId(viewerId) ? withSignal(() => ({ t: 'signal', viewerId, message: hostSignal(m.message) })) : undefined;
    }
    case 'report': {
      const r = peerReportSchema.safeParse(m.report);
      return r.success ? { t: 'report', report: r.data } : undefined;
    }
    case 'rtt':
      return isViewerId(m.viewerId) && typeof m.rttMs === 'number' && Number.isFinite(m.rttMs) && m.rttMs >= 0
        ? { t: 'rtt', viewerId: m.viewerId, rttMs: m.rttMs }
        : undefined;
    case 'capture': {
      const r = wireCaptureSchema.safeParse(m.capture);
      return r.success ? { t: 'capture', capture: r.data } : undefined;
    }
    case 'request': {
      const e = requestEntrySchema.safeParse(m.entry);
      return e.success ? { t: 'request', entry: e.data } : undefined;
    }
    case 'claim':
    case 'claim-ended':
      return claimMessage(m);
    case 'untrusted': {
      const e = untrustedSchema.safeParse(m.event);
      return e.success ? { t: 'untrusted', event: e.data } : undefined;
    }
    default:
      return undefined;
  }
}

/** A claim sequence number: the host counts them from 0. */
const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function claimMessage(m: Record<string, unknown>): FromHost | undefined {
  const { viewerId, id, seq } = m;
  if (!isString(viewerId) || viewerId.length > MAX_WIRE_VIEWER_ID_CHARS || !isString(id) || !EXCHANGE_ID_PATTERN.test(id)) return undefined;
  if (m.t === 'claim-ended') return { t: 'claim-ended', viewerId, id };
  return isSeq(seq) ? { t: 'claim', seq, viewerId, id } : undefined;
}

/** Checks what the host process sent: a message, or a batch of per-exchange ones (each checked; those that fail are dropped). */
export function parseFromHostMessages(m: unknown): FromHost[] {
  if (!isObject(m) || m.t !== 'batch') {
    const one = parseFromHost(m);
    return one ? [one] : [];
  }
  if (!Array.isArray(m.messages) || m.messages.length > MAX_HOST_BATCH) return [];
  const out: FromHost[] = [];
  for (const item of m.messages as unknown[]) {
    const parsed = isObject(item) && (item.t === 'request' || item.t === 'capture') ? parseFromHost(item) : undefined;
    if (parsed) out.push(parsed);
  }
  return out;
}

/** Checks a message from the agent; undefined when it is not one we know. */
export function parseToHost(m: unknown): ToHost | undefined {
  if (!isObject(m)) return undefined;
  switch (m.t) {
    case 'init': {
      const r = hostInitSchema.safeParse(m);
      return r.success ? r.data : undefined;
    }
    case 'signal': {
      const viewerId = m.viewerId;
      return isString(viewerId) ? withSignal(() => ({ t: 'signal', viewerId, message: parseViewerSignal(m.message) })) : undefined;
    }
    case 'viewer-left':
      return isString(m.viewerId) ? { t: 'viewer-left', viewerId: m.viewerId } : undefined;
    case 'close-peer':
      return isViewerId(m.viewerId) && isString(m.reason) && m.reason.length <= 200 ? { t: 'close-peer', viewerId: m.viewerId, reason: m.reason } : undefined;
    case 'ice-servers': {
      const r = iceServersSchema.safeParse(m.iceServers);
      return r.success ? { t: 'ice-servers', iceServers: r.data } : undefined;
    }
    case 'trust': {
      if (m.trust === undefined) return { t: 'trust' };
      const r = linkTrustSchema.safeParse(m.trust);
      return r.success ? { t: 'trust', trust: r.data } : undefined;
    }
    case 'claimed':
      return isSeq(m.seq) && typeof m.won === 'boolean' ? { t: 'claimed', seq: m.seq, won: m.won } : undefined;
    case 'close':
      return { t: 'close' };
    default:
      return undefined;
  }
}

/** The host process's signaling to a viewer: what the protocol's parser accepts, with an error code of the signaling registry (it sends no other). */
function hostSignal(m: unknown): HostSignal {
  const signal = parseHostSignal(m);
  if (signal.type !== 'error') return signal;
  const { code, message } = signal;
  if (!isCodeOf(SIGNALING_ERROR_CODES, code)) throw new ProtocolError('ERR_INVALID_PAYLOAD', `unknown signaling error code ${code}`);
  return { type: 'error', code, message };
}

/** A signaling payload that fails the protocol's parser makes the whole message unknown. */
function withSignal<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch {
    return undefined;
  }
}

/** Same bounds as the protocol's heads: far more than a real head carries. */
const MAX_WIRE_HEADERS = 1024;

const headerListSchema = z.array(z.tuple([z.string().max(65_536), z.string().max(65_536)])).max(MAX_WIRE_HEADERS);
const wireBodySchema = z.object({
  data: z.instanceof(Uint8Array).refine((d) => d.byteLength <= MAX_CAPTURE_BODY_LIMIT_BYTES),
  size: z.number().int().nonnegative(),
  truncated: z.boolean(),
  underLoad: z.literal(true).optional(),
});
const wireCaptureSchema = z.object({
  mount: z.string().max(256).optional(),
  method: z.string().min(1).max(64),
  target: z.string().max(65_536),
  transport: z.enum(['relay', 'p2p']),
  viewer: z.string().max(256).optional(),
  startedAt: z.number().finite(),
  durationMs: z.number().finite().nonnegative(),
  status: z.number().int().min(0).max(999),
  error: z.string().max(64).optional(),
  requestHeaders: headerListSchema,
  responseHeaders: headerListSchema,
  requestBody: wireBodySchema,
  responseBody: wireBodySchema,
  websocket: z.boolean().optional(),
});

const bodyFromWire = (b: WireBody): CapturedBody => ({
  data: Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
  size: b.size,
  truncated: b.truncated,
  ...(b.underLoad ? { underLoad: true } : {}),
});

export function captureFromWire(c: WireCapture): Capture {
  return { ...c, requestBody: bodyFromWire(c.requestBody), responseBody: bodyFromWire(c.responseBody) };
}
