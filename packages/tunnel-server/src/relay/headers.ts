/**
 * Header lists between a viewer's HTTP message and the wire heads: names lower-cased, hop-by-hop fields dropped in
 * both directions (RFC 9110 §7.6.1), X-Forwarded-* added towards the agent, X-Wingman-Transport set towards the
 * viewer.
 */
import type { IncomingMessage } from 'node:http';
import { connectionListed, headerListFromRaw, HOP_BY_HOP_HEADERS, TRANSPORT_HEADER, type HeaderList } from '@wingman/protocol';
import { clientAddress, CLUSTER_HOP_HEADER } from '../viewers/viewer-address';

/**
 * Connection-scoped fields, never forwarded: the protocol's hop-by-hop set plus `trailers`, and
 * `proxy-authorization`/`-authenticate`, which belong to a proxy hop, not to the developer's app.
 */
const HOP_BY_HOP = new Set([...HOP_BY_HOP_HEADERS, 'trailers', 'proxy-authorization', 'proxy-authenticate']);

/**
 * Fields this server replaces towards the agent (a viewer must not choose them), and the cluster's hop marker
 * (cluster/node-forward.ts), which is between nodes only.
 */
const FORWARDED_REPLACED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-for', CLUSTER_HOP_HEADER]);

/** WebSocket handshake fields that belong to the viewer↔server hop; the agent's own WebSocket client makes its own. */
export const WEBSOCKET_HOP_FIELDS = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-accept']);

interface RequestHeaderOptions {
  /** `http` or `https`: the scheme viewers use (the public URL's), sent as X-Forwarded-Proto. */
  forwardedProto: string;
  /** More fields to drop (WEBSOCKET_HOP_FIELDS for upgrades). */
  drop?: ReadonlySet<string>;
}

/** The request head's headers: the viewer's fields minus hop-by-hop ones, plus X-Forwarded-For/-Proto/-Host. */
export function requestHeadersForAgent(req: IncomingMessage, options: RequestHeaderOptions): HeaderList {
  const pairs = headerListFromRaw(req.rawHeaders);
  const listed = connectionListed(pairs);
  const out: HeaderList = [];
  const priorFor: string[] = [];
  for (const pair of pairs) {
    const name = pair[0];
    if (name === 'x-forwarded-for') priorFor.push(pair[1]);
    // `expect: 100-continue` was answered by Node already; the agent must not wait for another 100.
    if (HOP_BY_HOP.has(name) || listed.has(name) || FORWARDED_REPLACED.has(name) || name === 'expect' || options.drop?.has(name)) continue;
    out.push(pair);
  }
  priorFor.push(clientAddress(req));
  out.push(['x-forwarded-for', priorFor.join(', ')]);
  out.push(['x-forwarded-proto', options.forwardedProto]);
  const host = req.headers.host;
  if (host) out.push(['x-forwarded-host', host]);
  return out;
}

/**
 * The response head's headers as a flat [name, value, ...] array for `res.writeHead` (keeps repeated fields such as
 * Set-Cookie), minus hop-by-hop fields, with X-Wingman-Transport: relay (replacing any value).
 */
export function responseHeadersForViewer(headers: HeaderList, drop?: ReadonlySet<string>): string[] {
  const listed = connectionListed(headers);
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === TRANSPORT_HEADER || drop?.has(name)) continue;
    out.push(name, value);
  }
  out.push(TRANSPORT_HEADER, 'relay');
  return out;
}
