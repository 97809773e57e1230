/**
 * Messages between the agent and its P2P host process over Node's IPC
 * channel. A native crash can cut one mid-way: each is checked before use
 * (zod, and the protocol's own parsers for signaling and ICE servers).
 */
import {
  EXCHANGE_ID_PATTERN,
  isCodeOf,
  parseHostSignal,
  parseIceServers,
  parseViewerSignal,
  ProtocolError,
  SIGNALING_ERROR_CODES,
  type HostSignal,
} from '@wingman/protocol';
import { z } from 'zod';
import {
  forwardSettingsSchema,
  MAX_CAPTURE_BODY_LIMIT_BYTES,
  requestLogEntrySchema,
  wireCaptureSchema,
  type Capture,
  type CapturedBody,
  type WireCapture,
} from '../forward';
import { durationMs, linkTrustSchema, MAX_WIRE_VIEWER_ID_CHARS, peerReportSchema, untrustedSchema, viewerIdSchema } from './peer-host-options';

/** A value the protocol's own parser takes (signaling, ICE servers): what it throws at fails the whole message. */
function parsedBy<T>(parse: (v: unknown) => T) {
  return z.unknown().transform((v, ctx): T => {
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** The host process's signaling to a viewer: what the protocol's parser accepts, with an error code of the signaling registry (it sends no other). */
function hostSignal(m: unknown): HostSignal {
  const signal = parseHostSignal(m);
  if (signal.type !== 'error') return signal;
  const { code, message } = signal;
  if (!isCodeOf(SIGNALING_ERROR_CODES, code)) throw new ProtocolError('ERR_INVALID_PAYLOAD', `unknown signaling error code ${code}`);
  return { type: 'error', code, message };
}

const iceServersSchema = parsedBy(parseIceServers);
/** A claim sequence number: the host counts them from 0. */
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A claim's viewer: empty for a relayed exchange. */
const claimOf = { viewerId: z.string().max(MAX_WIRE_VIEWER_ID_CHARS), id: z.string().regex(EXCHANGE_ID_PATTERN) };

/** What the child needs to serve P2P streams on its own: the forwarder's and the peer host's settings. */
const hostInitSchema = z.object({
  t: z.literal('init'),
  forward: forwardSettingsSchema,
  iceServers: iceServersSchema,
  connectTimeoutMs: durationMs(),
  /** Capture P2P exchanges for the inspector, keeping this many bytes per body; undefined: no capture. */
  captureBodyLimitBytes: z.number().int().min(0).max(MAX_CAPTURE_BODY_LIMIT_BYTES).optional(),
  acceptLoopbackCandidates: z.boolean().optional(),
  trust: linkTrustSchema.optional(),
});

const toHostSchema = z.discriminatedUnion('t', [
  hostInitSchema,
  z.object({ t: z.literal('signal'), viewerId: z.string(), message: parsedBy(parseViewerSignal) }),
  z.object({ t: z.literal('viewer-left'), viewerId: z.string() }),
  z.object({ t: z.literal('close-peer'), viewerId: viewerIdSchema, reason: z.string().max(200) }),
  z.object({ t: z.literal('ice-servers'), iceServers: iceServersSchema }),
  z.object({ t: z.literal('trust'), trust: linkTrustSchema.optional() }),
  // The agent's answer to the host's claim `seq` (forward/exchange-record.ts).
  z.object({ t: z.literal('claimed'), seq, won: z.boolean() }),
  z.object({ t: z.literal('close') }),
]);

const requestMessage = z.object({ t: z.literal('request'), entry: requestLogEntrySchema });
const captureMessage = z.object({ t: z.literal('capture'), capture: wireCaptureSchema });
/** What the host process sends per exchange: batched (HostBatch), since a module wave is hundreds of exchanges. */
const perExchangeSchema = z.discriminatedUnion('t', [requestMessage, captureMessage]);

const fromHostSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('ready') }),
  z.object({ t: z.literal('signal'), viewerId: viewerIdSchema, message: parsedBy(hostSignal) }),
  z.object({ t: z.literal('report'), report: peerReportSchema }),
  z.object({ t: z.literal('rtt'), viewerId: viewerIdSchema, rttMs: durationMs() }),
  z.object({ t: z.literal('untrusted'), event: untrustedSchema }),
  requestMessage,
  captureMessage,
  // A claim on an exchange with an id, before it is forwarded: the agent answers `claimed`.
  z.object({ t: z.literal('claim'), seq, ...claimOf }),
  // A won claim's exchange ended.
  z.object({ t: z.literal('claim-ended'), ...claimOf }),
]);

/** The host sends a batch when it is full; the agent drops a longer one. */
export const MAX_HOST_BATCH = 64;

/** Per-exchange messages of one batch (host-process.ts) in one IPC message: each costs a pipe write and read, per request of a burst. */
const hostBatchSchema = z.object({ t: z.literal('batch'), messages: z.array(z.unknown()).max(MAX_HOST_BATCH) });

export type HostInit = z.infer<typeof hostInitSchema>;
export type ToHost = z.infer<typeof toHostSchema>;
export type FromHost = z.infer<typeof fromHostSchema>;
export type PerExchange = z.infer<typeof perExchangeSchema>;
export type HostBatch = { t: 'batch'; messages: PerExchange[] };

/** Checks a message from the host process; undefined when it is not one we know. */
export const parseFromHost = (m: unknown): FromHost | undefined => fromHostSchema.safeParse(m).data;

/** Checks a message from the agent; undefined when it is not one we know. */
export const parseToHost = (m: unknown): ToHost | undefined => toHostSchema.safeParse(m).data;

/** What the host process sent: a message, or a batch of checked per-exchange ones (the tag first: a failed parse costs ~15 µs). */
export function parseFromHostMessages(m: unknown): FromHost[] {
  if ((m as { t?: unknown } | null)?.t !== 'batch') return [parseFromHost(m) ?? []].flat();
  const batch = hostBatchSchema.safeParse(m);
  return batch.success ? batch.data.messages.flatMap((item) => perExchangeSchema.safeParse(item).data ?? []) : [];
}

const bodyFromWire = (b: WireCapture['requestBody']): CapturedBody => ({
  data: Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength),
  size: b.size,
  truncated: b.truncated,
  ...(b.underLoad ? { underLoad: true } : {}),
});

export function captureFromWire(c: WireCapture): Capture {
  return { ...c, requestBody: bodyFromWire(c.requestBody), responseBody: bodyFromWire(c.responseBody) };
}
