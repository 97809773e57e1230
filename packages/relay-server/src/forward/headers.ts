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
import { requestFieldTowardsApp, responseFieldAddress, type ExchangeAddresses } from './address-map';
import { sessionOrigin, type AppAddress } from './app-urls';
import { formatHostPort, type HostHeaderMode, type Target } from './target';

/** Transport over which a stream reached the agent. */
export type TransportName = 'relay' | 'p2p';

/** The protocol's hop-by-hop set, plus `expect`: the tunnel already accepted the body. */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'expect']);

/** Request fields addressed to the agent itself, removed before the app. */
const AGENT_ONLY = new Set([VIEWER_HEADER, ROUTE_HEADER, FETCH_METADATA_HEADER, AGENT_TIME_HEADER, EXCHANGE_HEADER]);

/** Fields `ws` writes itself for its handshake towards the app. */
const WS_HANDSHAKE = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'content-length']);

/**
 * The app's response fields from the HTTP client's raw list ([name, value, …]), in one pass: hop-by-hop
 * ones and those Connection names out, names lower-cased, the app's addresses made the session's
 * (address-map.ts; `app` is undefined with `preserve`).
 */
export function fromAppResponse(raw: ReadonlyArray<Buffer | string>, app: AppAddress | undefined, addresses: ExchangeAddresses): HeaderList {
  let fields: HeaderList = [];
  let connection: HeaderList | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (name === 'connection') (connection ??= []).push([name, value]);
    else if (!HOP_BY_HOP.has(name)) fields.push([name, app ? responseFieldAddress(name, value, app, addresses) : value]);
  }
  if (connection) {
    const listed = connectionListed(connection);
    fields = fields.filter(([name]) => !listed.has(name));
  }
  return fields;
}

type Framing = { ok: true; contentLength: number | undefined } | { ok: false; reason: string };

/**
 * Against request smuggling (RFC 9112 §6.3, §3.2): both Transfer-Encoding and
 * Content-Length, a Content-Length that is not one integer, or a repeated Host
 * is refused. Transfer-Encoding alone is dropped: the forwarder frames the body.
 */
export function checkFraming(headers: HeaderList): Framing {
  let hosts = 0,
    lengths = 0,
    hasTe = false,
    value = '';
  for (const [n, v] of headers) {
    if (n === 'host') hosts++;
    else if (n === 'transfer-encoding') hasTe = true;
    else if (n === 'content-length' && lengths++ === 0) value = v.trim();
  }
  if (hosts > 1) return { ok: false, reason: 'more than one Host header' };
  if (lengths === 0) return { ok: true, contentLength: undefined };
  if (hasTe) return { ok: false, reason: 'both Transfer-Encoding and Content-Length' };
  if (lengths > 1) return { ok: false, reason: 'more than one Content-Length header' };
  // Digits only (no sign, no comma list "5, 5"); 15 digits keeps it a safe integer.
  if (!/^[0-9]{1,15}$/.test(value)) return { ok: false, reason: `invalid Content-Length "${value.slice(0, 40)}"` };
  return { ok: true, contentLength: Number(value) };
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
  const listed = connectionListed(headers);
  // The forbidden fields a Service Worker's relayed fetch carried in FETCH_METADATA_HEADER (e.g. `sec-fetch-mode: navigate`), in place of its own fetch's.
  const metadata = headers.find(([n]) => n === FETCH_METADATA_HEADER)?.[1];
  const fetched = metadata === undefined ? undefined : parseFetchMetadata(metadata);
  const replaced = fetched && new Set(fetched.map(([n]) => n));
  const preserve = options.hostHeader === 'preserve';
  const host =
    options.hostHeader === 'rewrite' ? formatHostPort(options.target) : preserve ? (originalHost ?? formatHostPort(options.target)) : options.hostHeader;
  const mapped = !preserve && originalHost !== undefined;
  const viewerHost = mapped ? originalHost.trim().toLowerCase() : '';
  const appOrigin = mapped ? `${options.target.scheme ?? 'http'}://${host.toLowerCase()}` : '';
  const sent: HeaderList = [['host', host]];
  let viewerOrigin: string | undefined;
  let forwardedHost = false;
  // One pass, in the viewer's order then the fetch's fields; ws-handshake fields out for a WebSocket, x-forwarded-for over P2P (it could only be forged).
  const add = (field: [string, string]) => {
    const [name, value] = field;
    if ((options.websocket && WS_HANDSHAKE.has(name)) || (options.transport === 'p2p' && name === 'x-forwarded-for')) return;
    forwardedHost ||= name === 'x-forwarded-host';
    const moved = mapped ? requestFieldTowardsApp(name, value, viewerHost, appOrigin) : undefined;
    if (moved !== undefined && name === 'origin') viewerOrigin = value.trim();
    sent.push(moved === undefined ? field : [name, moved]);
  };
  // The tunnel server's and the SW's words to the agent, never the app's.
  for (const field of headers) {
    const name = field[0];
    if (!HOP_BY_HOP.has(name) && !listed.has(name) && name !== 'host' && !AGENT_ONLY.has(name) && !replaced?.has(name)) add(field);
  }
  for (const field of fetched ?? []) add(field);
  if (originalHost !== undefined && !forwardedHost) sent.push(['x-forwarded-host', originalHost]);
  return { headers: sent, addresses: { sessionOrigin: sessionOrigin(sent), viewerOrigin } };
}
