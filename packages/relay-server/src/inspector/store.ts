/**
 * The inspector's memory: the last N captured exchanges in a ring; ids only
 * grow, so a page holding an evicted id gets a 404, not another request.
 */
import { ROUTE_HEADER, type HeaderList } from '@wingman/protocol';
import { z } from 'zod';
import type { Capture, CapturedBody, TransportName } from '../forward';

export const DEFAULT_INSPECT_HISTORY = 500;
/** Largest `--inspect-history`: with 1 MiB bodies, 10 000 entries could hold ~20 GiB; past that it is a leak, not a history. */
export const MAX_INSPECT_HISTORY = 10_000;

/**
 * Body bytes the ring may hold in all, whatever --inspect-history says: a
 * viewer can fill it (a stream of 1 MiB downloads), so it counts in the
 * agent's ~200 MB beside AGENT_BUFFER_BUDGET_BYTES and CAPTURE_IN_FLIGHT_BUDGET_BYTES.
 */
const INSPECT_STORE_MAX_BYTES = 32 * 1024 * 1024;

export type EntryTransport = TransportName | 'replay';

export interface Entry extends Omit<Capture, 'transport'> {
  id: number;
  transport: EntryTransport;
  /** A replay's: the id of the entry it replayed. */
  replayOf?: number;
  /** `wingman start`'s tunnel name. */
  tunnel?: string;
}

/** The list view (no heads, no bodies); `route`: the reason of the route header. */
type EntrySummary = Pick<
  Entry,
  'id' | 'method' | 'status' | 'error' | 'startedAt' | 'durationMs' | 'transport' | 'viewer' | 'verified' | 'websocket' | 'replayOf' | 'tunnel' | 'mount'
> & { path: string; route?: string; requestSize: number; responseSize: number; contentType?: string };

/** /api/requests' query: each field given narrows the list. */
export const entryFilterSchema = z
  .object({
    method: z.string().max(32),
    /** Exact status ("404") or a class ("4xx"). */
    status: z.string().regex(/^([1-5]xx|[0-9]{1,3})$/i, 'status is a code (404) or a class (4xx)'),
    transport: z.enum(['relay', 'p2p', 'replay']),
    path: z.string().max(8192),
    /** "name" (present) or "name:value" (value substring), request or response headers. */
    header: z.string().max(1024),
    tunnel: z.string().max(64),
  })
  .partial()
  .strict();

type EntryFilter = z.infer<typeof entryFilterSchema>;

type EntryExtra = { transport?: EntryTransport; replayOf?: number; tunnel?: string };

type StoreEvent = { type: 'added'; entry: Entry } | { type: 'cleared' };

export type RequestStore = ReturnType<typeof createRequestStore>;

/** The capture as handed over; its entry built only when something reads it (most are never looked at). */
interface Kept {
  id: number;
  capture: Capture;
  extra: EntryExtra;
  entry?: Entry;
}

const bodyBytes = (c: Capture) => c.requestBody.data.length + c.responseBody.data.length;

function entryOf(k: Kept): Entry {
  if (k.entry) return k.entry;
  const { capture, extra } = k;
  return (k.entry = {
    ...capture,
    ...extra,
    id: k.id,
    transport: extra.transport ?? capture.transport,
  });
}

const NO_EXTRA: EntryExtra = Object.freeze({});

export function createRequestStore(capacity = DEFAULT_INSPECT_HISTORY, maxBytes = INSPECT_STORE_MAX_BYTES) {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} must be a positive integer`);
  /** Oldest first from `first` on; evicted ones cut off in batches (Array.shift moves every entry). */
  let entries: Kept[] = [];
  let first = 0;
  let nextId = 1;
  let bytes = 0;
  const live = () => entries.length - first;
  const evictOldest = () => {
    bytes -= bodyBytes(entries[first]!.capture);
    entries[first++] = undefined as unknown as Kept;
    if (first >= capacity || first * 2 >= entries.length) {
      entries = entries.slice(first);
      first = 0;
    }
  };
  const current = () => (first === 0 ? entries : entries.slice(first)).map(entryOf);
  const listeners = new Set<(e: StoreEvent) => void>();
  const emit = (e: StoreEvent) => {
    for (const fn of listeners) {
      try {
        fn(e);
      } catch {
        // One broken listener (a closed SSE socket) must not stop the others.
      }
    }
  };
  const record = (capture: Capture, extra: EntryExtra): Kept => {
    const kept: Kept = { id: nextId++, capture, extra };
    entries.push(kept);
    bytes += bodyBytes(capture);
    // The newest entry always stays, even alone over the budget.
    while (live() > 1 && (live() > capacity || bytes > maxBytes)) evictOldest();
    if (listeners.size > 0) emit({ type: 'added', entry: entryOf(kept) });
    return kept;
  };
  return {
    add: (capture: Capture, extra: EntryExtra = NO_EXTRA): Entry => entryOf(record(capture, extra)),
    /** As add, without building the entry until something reads it. */
    record(capture: Capture, extra: EntryExtra = NO_EXTRA): void {
      record(capture, extra);
    },
    get(id: number): Entry | undefined {
      for (let i = first; i < entries.length; i++) if (entries[i]!.id === id) return entryOf(entries[i]!);
      return undefined;
    },
    /** Oldest first. */
    list: (filter?: EntryFilter): Entry[] => (filter ? current().filter((e) => matches(e, filter)) : current()),
    clear() {
      entries = [];
      first = 0;
      bytes = 0;
      emit({ type: 'cleared' });
    },
    /** Returns the unsubscribe function. */
    subscribe(fn: (event: StoreEvent) => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

export function summarize(e: Entry): EntrySummary {
  const contentType = headerValue(e.responseHeaders, 'content-type');
  const route = /reason=([a-z-]+)/.exec(headerValue(e.responseHeaders, ROUTE_HEADER) ?? '')?.[1];
  return {
    id: e.id,
    method: e.method,
    path: e.target,
    status: e.status,
    ...(e.error !== undefined ? { error: e.error } : {}),
    startedAt: e.startedAt,
    durationMs: e.durationMs,
    transport: e.transport,
    ...(route !== undefined ? { route } : {}),
    ...(e.viewer !== undefined ? { viewer: e.viewer } : {}),
    ...(e.verified ? { verified: true } : {}),
    requestSize: e.requestBody.size,
    responseSize: e.responseBody.size,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(e.websocket ? { websocket: true } : {}),
    ...(e.replayOf !== undefined ? { replayOf: e.replayOf } : {}),
    ...(e.tunnel !== undefined ? { tunnel: e.tunnel } : {}),
    ...(e.mount !== undefined ? { mount: e.mount } : {}),
  };
}

function bodyJson(b: CapturedBody, headers: HeaderList) {
  const contentType = headerValue(headers, 'content-type');
  return {
    data: b.data.toString('base64'),
    encoding: 'base64' as const,
    size: b.size,
    truncated: b.truncated,
    ...(b.underLoad ? { underLoad: true as const } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
  };
}

/** The detail view: the summary plus both heads and bodies. */
export function detail(e: Entry) {
  return {
    ...summarize(e),
    request: { method: e.method, path: e.target, headers: e.requestHeaders, body: bodyJson(e.requestBody, e.requestHeaders) },
    response: { status: e.status, headers: e.responseHeaders, body: bodyJson(e.responseBody, e.responseHeaders) },
  };
}

function headerValue(headers: HeaderList, name: string): string | undefined {
  return headers.find(([n]) => n === name)?.[1];
}

function matches(e: Entry, f: EntryFilter): boolean {
  if (f.method && e.method.toUpperCase() !== f.method.toUpperCase()) return false;
  if (f.transport && e.transport !== f.transport) return false;
  if (f.tunnel && e.tunnel !== f.tunnel) return false;
  if (f.path && !e.target.includes(f.path)) return false;
  if (f.status) {
    const s = String(e.status);
    const cls = /^([1-5])xx$/i.exec(f.status);
    if (cls ? s[0] !== cls[1] || s.length !== 3 : s !== f.status) return false;
  }
  if (f.header) {
    // "name" or "name:value", split at the first colon.
    const [name, value] = f.header
      .toLowerCase()
      .split(/:(.*)/s)
      .map((s) => s.trim());
    const all = [...e.requestHeaders, ...e.responseHeaders];
    if (!all.some(([n, v]) => n === name && (value === undefined || v.toLowerCase().includes(value)))) return false;
  }
  return true;
}
