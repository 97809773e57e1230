/**
 * Turns what came back — a P2P response head + body from the shell, or a
 * relay fetch's Response — into the Response the page gets, by the same
 * rules for both paths, so the app cannot tell them apart (except by
 * x-wingman-transport): the rules are listed in docs/browser-client.md
 * §Routing rules, "Response rules"; a frame navigation's framing policy is
 * frame-policy.ts's.
 */
import { declaredBodyLength, APP_PORT_HEADER, APP_ROUTES_HEADER, SHIM_PATH, SW_SET_COOKIE_HEADER, SW_STATUS_HEADER } from '@wingman/protocol';
import { isHtml, shimTag } from '../shared/html-inject';
import { header, type WireHeaders } from '../shared/messages';
import type { SwCookies } from './cookies';
import { declaredLengthStream } from './declared-length';
import { errorResponse } from './error-response';
import { framePolicy, needsFramePolicy } from './frame-policy';
import { injectShim } from './inject-stream';
import { streamOf } from './request-body';
import { quietly } from '../shared/quietly';
import { parseUrl } from '../shared/baseline';

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** Statuses whose Response has no body (Fetch "null body status"). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);
/** Never copied onto the page's Response: ours, or meaningless on a built response. */
const DROPPED = new Set([
  'set-cookie',
  'set-cookie2',
  SW_SET_COOKIE_HEADER,
  SW_STATUS_HEADER,
  'connection',
  'keep-alive',
  'transfer-encoding',
  'trailer',
  'upgrade',
]);

export interface Incoming {
  status: number;
  headers: WireHeaders;
  body: ReadableStream<Uint8Array> | null;
  /**
   * The whole P2P body, already in hand (then `body` is null): the page's
   * Response is built from the bytes, with no stream for the Service Worker
   * to feed, unless a rule below needs one (decoding, the shim).
   */
  bytes?: Uint8Array;
  transport: 'p2p' | 'relay';
}

/** What carrying one request gives (router.ts `obtain`), before a Response is built from it. */
export type Obtained =
  /** A response to build (P2P, or a relayed one whose body is measured). */
  | { kind: 'incoming'; incoming: Incoming }
  | { kind: 'relay'; res: Response }
  /** A final answer (an error page, an aborted request). */
  | { kind: 'final'; response: Response };

export interface BuildContext {
  request: Request;
  url: URL;
  cookies: SwCookies;
}

const decodable = new Map<string, boolean>();

/** Whether DecompressionStream handles `encoding` here (feature-detected once per encoding: every P2P request asks). */
export function canDecode(encoding: string): boolean {
  let ok = decodable.get(encoding);
  if (ok !== undefined) return ok;
  // It throws without DecompressionStream here (a ReferenceError), or not for this encoding.
  ok = quietly(() => new DecompressionStream(encoding as CompressionFormat)) !== undefined;
  decodable.set(encoding, ok);
  return ok;
}

function bridgedSetCookies(headers: WireHeaders): string[] {
  const raw = header(headers, SW_SET_COOKIE_HEADER);
  if (raw === undefined) return [];
  const v: unknown = quietly(() => JSON.parse(raw));
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export async function buildResponse(incoming: Incoming, ctx: BuildContext): Promise<Response> {
  const { request, url } = ctx;
  let { status } = incoming;
  let headers = incoming.headers;
  let bytes = incoming.bytes;
  let body = bytes ? null : incoming.body;

  const setCookies = incoming.transport === 'p2p' ? headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v) : bridgedSetCookies(headers);
  const bridgedStatus = Number(header(headers, SW_STATUS_HEADER));
  if (incoming.transport === 'relay' && REDIRECT_STATUSES.has(bridgedStatus)) status = bridgedStatus;
  // Cookies land (and are mirrored for document.cookie) before the page sees the response.
  await ctx.cookies.store(setCookies, url);

  const location = header(headers, 'location');
  if (REDIRECT_STATUSES.has(status) && location !== undefined) {
    void body?.cancel().catch(() => undefined);
    const target = parseUrl(location, url)?.href;
    if (target === undefined) return errorResponse(502, 'ERR_INVALID_HEADER', `The app redirected to an invalid location (${location.slice(0, 200)}).`);
    return Response.redirect(target, status);
  }

  if (status < 200 || status > 599) {
    void body?.cancel().catch(() => undefined);
    return errorResponse(502, 'ERR_PROTOCOL', `The app answered with status ${status}, which a browser response cannot carry.`);
  }

  let dropLength = false;
  let decoded = false;
  if (request.method === 'HEAD' || NULL_BODY_STATUSES.has(status)) {
    void body?.cancel().catch(() => undefined);
    body = null;
    bytes = undefined;
  }
  const encoding = header(headers, 'content-encoding')?.trim().toLowerCase();
  const destination = request.mode === 'navigate' ? request.destination : '';
  const framed = destination === 'iframe' || destination === 'frame';
  if (bytes) {
    // Bytes in hand that a rule below streams (decoding, the shim), or a body shorter than declared (an error mid-body): a stream.
    const declared = declaredBodyLength(headers);
    const streamed = (encoding !== undefined && encoding !== 'identity') || framed || (declared != null && bytes.length < declared);
    if (streamed) {
      body = streamOf(bytes);
      bytes = undefined;
    } else if (declared === null) {
      return errorResponse(502, 'ERR_INVALID_HEADER', 'The app answered with an invalid or conflicting Content-Length.');
    } else if (declared !== undefined && bytes.length > declared) {
      // Bytes past the declared length are dropped, as declaredLengthStream does.
      bytes = bytes.subarray(0, declared);
    }
  }
  if (body && incoming.transport === 'p2p') {
    // Before decoding: the length counts the bytes on the wire.
    const declared = declaredBodyLength(headers);
    if (declared === null) {
      void body.cancel().catch(() => undefined);
      return errorResponse(502, 'ERR_INVALID_HEADER', 'The app answered with an invalid or conflicting Content-Length.');
    }
    if (declared !== undefined) body = body.pipeThrough(declaredLengthStream(declared));
  }
  if (body && incoming.transport === 'p2p' && encoding && encoding !== 'identity') {
    const format = encoding === 'x-gzip' ? 'gzip' : encoding;
    if ((format === 'gzip' || format === 'deflate') && canDecode(format)) {
      body = body.pipeThrough(new DecompressionStream(format) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>);
      decoded = true;
      dropLength = true;
    }
  }
  if (framed) {
    // The shell frames the app: its framing policy must let the shell (same origin) do so, and its CSP run the shim.
    const injecting = body !== null && isHtml(header(headers, 'content-type'));
    const policy = framePolicy(headers, new URL(SHIM_PATH, url).href, injecting);
    headers = policy.headers;
    if (body && injecting) {
      body = injectShim(body, shimTag(policy.shimNonce, header(headers, APP_PORT_HEADER), header(headers, APP_ROUTES_HEADER)));
      dropLength = true;
    }
  }
  // A relay body was decoded by the browser; its Content-Length counts encoded bytes.
  if (incoming.transport === 'relay' && encoding && encoding !== 'identity') dropLength = true;

  const kept: Array<[string, string]> = [];
  for (const [name, value] of headers) {
    if (DROPPED.has(name)) continue;
    if (dropLength && name === 'content-length') continue;
    if (decoded && name === 'content-encoding') continue;
    kept.push([name, value]);
  }
  try {
    // A body in hand goes as a stream of one chunk: a Response of bytes costs the SW a blob per request.
    return new Response(bytes ? streamOf(bytes) : body, { status, headers: pageHeaders(kept) });
  } catch (err) {
    return errorResponse(502, 'ERR_INVALID_HEAD', `The app's response could not be rebuilt: ${(err as Error).message}`);
  }
}

/** The page's Headers: the list at once, or field by field when one value is refused (the wire allowed it: that field alone is dropped). */
function pageHeaders(list: Array<[string, string]>): Headers {
  try {
    return new Headers(list);
  } catch {
    const out = new Headers();
    for (const [name, value] of list) quietly(() => out.append(name, value));
    return out;
  }
}

/** The relay fetch's Response as an Incoming (its headers as a list). */
export function incomingFromRelay(res: Response): Incoming {
  return { status: res.status, headers: [...res.headers], body: res.body, transport: 'relay' };
}

/** True when a relay Response can go to the page untouched (nothing to bridge, nothing to inject). */
export function relayPassThrough(res: Response, request: Request): boolean {
  if (res.type === 'opaqueredirect') return true;
  if (res.headers.has(SW_SET_COOKIE_HEADER) || res.headers.has(SW_STATUS_HEADER)) return false;
  const dest = request.destination;
  if (request.mode === 'navigate' && (dest === 'iframe' || dest === 'frame') && (isHtml(res.headers.get('content-type')) || needsFramePolicy(res.headers)))
    return false;
  return true;
}
