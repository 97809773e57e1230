/** Hop-by-hop removal, request framing checks (smuggling), the Host policy and X-Forwarded-*: pure functions over header lists. */
import {
  AGENT_TIME_HEADER,
  connectionListed,
  EXCHANGE_HEADER,
  FETCH_METADATA_HEADER,
  HOP_BY_HOP_HEADERS,
  parseFetchMetadata,
  ROUTE_HEADER,
  VIEWER_HEADER,
  type HeaderList,
} from '@wingman/protocol';
import { mapRequestAddresses, type ExchangeAddresses } from './address-map';
import { sessionOrigin } from './app-urls';
import { formatHostPort, type HostHeaderMode, type Target } from './target';

/** Transport over which a stream reached the agent. */
export type TransportName = 'relay' | 'p2p';

/** The protocol's hop-by-hop set, plus `expect`: the tunnel already accepted the body. */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'expect']);

/** Request fields addressed to the agent itself, removed before the app. */
const AGENT_ONLY = new Set([VIEWER_HEADER, ROUTE_HEADER, FETCH_METADATA_HEADER, AGENT_TIME_HEADER, EXCHANGE_HEADER]);

/** Fields `ws` writes itself for its handshake towards the app. */
const WS_HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length']);

/** Fixed ones and those named by Connection. Used on responses too. */
export function withoutHopByHop(headers: HeaderList): HeaderList {
  const listed = connectionListed(headers);
  return headers.filter(([name]) => !HOP_BY_HOP.has(name) && !listed.has(name));
}

type Framing = { ok: true; contentLength: number | undefined } | { ok: false; reason: string };

/**
 * Against request smuggling (RFC 9112 §6.3, §3.2): both Transfer-Encoding and
 * Content-Length, a Content-Length that is not one integer, or a repeated Host
 * is refused. Transfer-Encoding alone is dropped: the forwarder frames the body.
 */
export function checkFraming(headers: HeaderList): Framing {
  const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => v.trim());
  const hasTe = headers.some(([n]) => n === 'transfer-encoding');
  if (headers.filter(([n]) => n === 'host').length > 1) return { ok: false, reason: 'more than one Host header' };
  if (lengths.length === 0) return { ok: true, contentLength: undefined };
  if (hasTe) return { ok: false, reason: 'both Transfer-Encoding and Content-Length' };
  if (lengths.length > 1) return { ok: false, reason: 'more than one Content-Length header' };
  const value = lengths[0]!;
  // Digits only (no sign, no comma list "5, 5"); 15 digits keeps it a safe integer.
  if (!/^[0-9]{1,15}$/.test(value)) return { ok: false, reason: `invalid Content-Length "${value.slice(0, 40)}"` };
  return { ok: true, contentLength: Number(value) };
}

/** The forbidden fields a Service Worker's relayed fetch carried in FETCH_METADATA_HEADER (e.g. `sec-fetch-mode: navigate`), in place of its own fetch's. */
function withFetchMetadata(out: HeaderList, original: HeaderList): HeaderList {
  const raw = original.find(([n]) => n === FETCH_METADATA_HEADER)?.[1];
  const fields = raw === undefined ? undefined : parseFetchMetadata(raw);
  if (!fields) return out;
  const names = new Set(fields.map(([n]) => n));
  return [...out.filter(([n]) => !names.has(n)), ...fields];
}

interface RequestHeaderOptions {
  target: Target;
  hostHeader: HostHeaderMode;
  transport: TransportName;
  websocket?: boolean;
}

/**
 * The head sent to the app, and what the response's translation needs
 * (address-map.ts). Host per `hostHeader`. X-Forwarded-*: the relay's pass
 * unchanged; over P2P x-forwarded-for is dropped (it could only be forged).
 * x-forwarded-host defaults to the Host the viewer used, so an app behind a
 * rewritten Host can still build public URLs.
 */
export function forwardedRequest(headers: HeaderList, options: RequestHeaderOptions): { headers: HeaderList; addresses: ExchangeAddresses } {
  const originalHost = headers.find(([n]) => n === 'host')?.[1];
  // The tunnel server's and the SW's words to the agent, never the app's.
  let out = withoutHopByHop(headers).filter(([name]) => name !== 'host' && !AGENT_ONLY.has(name));
  out = withFetchMetadata(out, headers);
  if (options.websocket) out = out.filter(([name]) => !WS_HANDSHAKE.has(name));
  if (options.transport === 'p2p') out = out.filter(([name]) => name !== 'x-forwarded-for');
  if (originalHost !== undefined && !out.some(([n]) => n === 'x-forwarded-host')) out.push(['x-forwarded-host', originalHost]);
  const preserve = options.hostHeader === 'preserve';
  const host =
    options.hostHeader === 'rewrite' ? formatHostPort(options.target) : preserve ? (originalHost ?? formatHostPort(options.target)) : options.hostHeader;
  let viewerOrigin: string | undefined;
  if (!preserve) ({ headers: out, viewerOrigin } = mapRequestAddresses(out, originalHost, `${options.target.scheme ?? 'http'}://${host.toLowerCase()}`));
  const sent: HeaderList = [['host', host], ...out];
  return { headers: sent, addresses: { sessionOrigin: sessionOrigin(sent), viewerOrigin } };
}
