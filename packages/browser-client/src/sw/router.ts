/**
 * One intercepted request: P2P through a shell when one has an open channel,
 * the relay otherwise — never waiting on ICE. A channel that fails before
 * the response head sends idempotent requests whose body was not consumed
 * to the relay; one that fails mid-body resumes a GET from the relay at the
 * byte where it stopped (Range when possible, else re-fetch and skip).
 * Anything else fails with a readable error page.
 */
import type { EventStreamIds } from './event-stream-ids';
import {
  ABORT_ID_HEADER,
  BODY_BYTES_HEADER,
  CHANNEL_COMING_WAIT_MS,
  RELAY_PARALLEL_REQUESTS,
  ROUTE_HEADER,
  SW_STATUS_HEADER,
  WINGMAN_PREFIX,
} from '../shared/constants';
import { channelDecoded, channelGzipAccepted } from './channel-coding';
import { AGENT_TIME_ASKED, takeAgentTime } from './agent-time';
import { acceptLanguage } from '../shared/accept-language';
import { cacheModeHeaders, fetchMetadata } from './fetch-metadata';
import type { RequestContext } from '../shared/cookie-jar';
import type { AbortRegistry } from './abort-registry';
import type { PathsUpdate, WireHeaders } from '../shared/messages';
import { buildResponse, canDecode, incomingFromRelay, NULL_BODY_STATUSES, relayPassThrough, type BuildContext, type Incoming } from './build-response';
import type { SwCookies } from './cookies';
import { errorResponse } from './error-response';
import { ChannelError } from './errors';
import { relayFetch } from './relay-fetch';
import { resumableBody, skipBytes } from './resumable-body';
import type { FramePrefetch } from './frame-prefetch';
import type { Obtained } from './obtained';
import { BULK_MIN_BYTES, type PathChooser, type RequestClass } from './path-choice';
import { RACE_MIN_BYTES, raceBodies } from './bulk-race';
import { bodyStream, contentLengthOf, prepareBody, type PreparedBody } from './request-body';
import type { RedirectFollowUps } from './redirect-follow-ups';
import type { RouteCounter } from './route-counts';
import { decideRoute, routeHeaderValue, type RouteFacts, type RouteReason } from './route-decision';
import { fetchViaShell, type ShellOutcome } from './shell-fetch';
import type { ShellRegistry } from './shell-registry';
import type { ShellTarget } from './shell-target';

/** RFC 9110 §9.2.2 (TRACE aside). Retried over the relay only when no body bytes left for the failed channel. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface RouterDeps {
  scope: ServiceWorkerGlobalScope;
  registry: ShellRegistry;
  cookies: SwCookies;
  aborts: AbortRegistry;
  /** Frame documents fetched ahead of their navigation (absent: every request is fetched when it arrives). */
  prefetch?: FramePrefetch;
  /** Picks P2P or the relay per request class from measurements of both (absent: P2P whenever a shell has a channel). */
  paths?: PathChooser;
  /** Counts each request's route for the diagnostics page (route-counts.ts). */
  routes?: RouteCounter;
  /** An EventSource's Last-Event-ID on its reconnection, which Chromium does not show the SW (event-stream-ids.ts). */
  eventStreams?: EventStreamIds;
  /** What WebKit leaves off a redirect's follow-up, a 307/308's body and a 303's Origin (redirect-follow-ups.ts). */
  followUps?: RedirectFollowUps;
}

/**
 * Counts a body's bytes as it is read and reports them with the time from
 * the first read to the end (the transfer, not the wait for the app).
 */
function measured(body: ReadableStream<Uint8Array> | null, done: (bytes: number, ms: number) => void): ReadableStream<Uint8Array> | null {
  if (!body) return body;
  let bytes = 0;
  let start: number | undefined;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        start ??= performance.now();
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
      flush() {
        done(bytes, start === undefined ? 0 : performance.now() - start);
      },
    }),
  );
}

/** Which fetch events this SW answers. Top-level navigations go to the network: the tunnel server answers them with the shell. */
export function shouldHandle(request: Request, url: URL, origin: string): boolean {
  if (url.origin !== origin) return false;
  if (url.pathname.startsWith(WINGMAN_PREFIX)) return false;
  if (request.mode === 'navigate' && request.destination === 'document') return false;
  return true;
}

export function sameSiteContext(request: Request, url: URL): RequestContext {
  let crossSite = false;
  if (request.referrer && request.referrer !== 'about:client') {
    try {
      crossSite = new URL(request.referrer).origin !== url.origin;
    } catch {
      crossSite = false;
    }
  }
  return { crossSite, safeTopLevelNavigation: request.mode === 'navigate' && request.method === 'GET' };
}

/** The request head as it goes over P2P: what the browser would have sent, as far as a SW can know it. */
function p2pHead(
  request: Request,
  url: URL,
  cookie: string,
  reason: RouteReason,
  contentLength: number | undefined,
  followUpOrigin: string | undefined,
): { method: string; target: string; headers: WireHeaders } {
  const headers: WireHeaders = [['host', url.host]];
  request.headers.forEach((value, name) => {
    if (name === 'host' || name === 'cookie' || name.startsWith('x-wingman-')) return;
    headers.push([name, value]);
  });
  if (cookie) headers.push(['cookie', cookie]);
  if (request.referrer && request.referrer !== 'about:client') headers.push(['referer', request.referrer]);
  const method = request.method.toUpperCase();
  // Browsers send Origin with same-origin requests other than GET/HEAD (Fetch §3.1); CSRF checks rely on it.
  // Where the browser shows it to the SW (Chromium's form navigations do), it is already in the list above.
  if (method !== 'GET' && method !== 'HEAD' && !request.headers.has('origin')) headers.push(['origin', url.origin]);
  // WebKit keeps it on a redirect's follow-up turned into GET (redirect-follow-ups.ts).
  else if (followUpOrigin && !request.headers.has('origin')) headers.push(['origin', followUpOrigin]);
  if (contentLength !== undefined) headers.push(['content-length', String(contentLength)]);
  if (!request.headers.has('user-agent')) headers.push(['user-agent', navigator.userAgent]);
  const languages = request.headers.has('accept-language') ? undefined : acceptLanguage(navigator.languages ?? []);
  if (languages) headers.push(['accept-language', languages]);
  headers.push(...cacheModeHeaders(request));
  headers.push(['accept-encoding', canDecode('gzip') ? 'gzip, deflate' : 'identity']);
  // The agent may gzip a text body for the channel alone (channel-coding.ts).
  const accept = channelGzipAccepted();
  if (accept) headers.push(accept);
  headers.push(...fetchMetadata(request));
  headers.push([ROUTE_HEADER, reason]);
  // The agent's own time comes back with the head, to leave out of the path's (agent-time.ts).
  headers.push(AGENT_TIME_ASKED);
  return { method, target: url.pathname + url.search, headers };
}

/** The request body for the relay's fetch: bytes (the relay may be HTTP/1.1, where a browser streams no request body), or null. */
async function relayBody(request: Request, method: string, source: { kind: 'unread' } | { kind: 'prepared'; body: PreparedBody }): Promise<ArrayBuffer | null> {
  if (method === 'GET' || method === 'HEAD') return null;
  if (source.kind === 'unread') return request.arrayBuffer();
  const body = source.body;
  if (body.kind === 'none') return new ArrayBuffer(0);
  if (body.kind === 'bytes') return body.bytes.buffer;
  return new Response(body.stream).arrayBuffer();
}

export async function handleRequest(event: FetchEvent, deps: RouterDeps): Promise<Response> {
  const { signal, done } = deps.aborts.track(event.request, event.request.headers.get(ABORT_ID_HEADER));
  try {
    const arrived = deps.eventStreams?.withLastEventId(event.request, event.clientId) ?? event.request;
    const request = (await deps.followUps?.restore(arrived, event.clientId)) ?? arrived;
    const url = new URL(request.url);
    // A frame navigation whose document the SW already started fetching when the shell's own navigation began.
    const early = deps.prefetch?.take(request, url);
    const fetchNow = () => obtain(request, url, event.clientId, event.resultingClientId, deps, signal);
    let obtained = early ? await early.catch(fetchNow) : await fetchNow();
    // Started at the shell's navigation, before a private session's shell could say so: its relay refused the
    // document. The shell loads the frame once its channel is verified, so ask again (over that channel).
    if (early && refusedAsPrivate(obtained) && deps.registry.hasPrivateShell()) obtained = await fetchNow();
    const response = await finish(obtained, { request, url, cookies: deps.cookies });
    return deps.eventStreams?.track(request, event.clientId, response) ?? response;
  } finally {
    // Past the head, an abort cancels the response body, which both paths handle.
    done();
  }
}

/** A relayed answer of 403: what a private session's relay gives every app request. */
function refusedAsPrivate(obtained: Obtained): boolean {
  if (obtained.kind === 'relay') return obtained.res.status === 403;
  return obtained.kind === 'incoming' && obtained.incoming.transport === 'relay' && obtained.incoming.status === 403;
}

/** What the transports brought back, before the response rules (build-response.ts) apply to the requesting document. */
/**
 * The relay's Response as the page gets it. A fetched Response carries its
 * own URL list, and the page's fetch would take it over: after a redirect the
 * SW turned back into a real one (build-response.ts), the follow-up's
 * response would say `redirected: false`. A Response built here has none, so
 * the page's own URL list (with the redirect) stands, as over P2P and as
 * without Wingman. Navigations and opaque redirects go as they are.
 */
function pageResponse(res: Response, request: Request): Response {
  if (request.mode === 'navigate' || res.type === 'opaqueredirect') return res;
  const nullBody = NULL_BODY_STATUSES.has(res.status);
  if (nullBody) void res.body?.cancel().catch(() => undefined);
  return new Response(nullBody ? null : res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Applies the response rules for the request that will receive it (which may differ from the one that fetched: prefetch). */
export function finish(obtained: Obtained, ctx: BuildContext): Promise<Response> {
  switch (obtained.kind) {
    case 'final':
      return Promise.resolve(obtained.response);
    case 'incoming':
      return buildResponse(obtained.incoming, ctx);
    case 'relay':
      if (relayPassThrough(obtained.res, ctx.request)) return Promise.resolve(pageResponse(obtained.res, ctx.request));
      return buildResponse(incomingFromRelay(obtained.res), ctx);
  }
}

/** Carries one request over P2P (through a shell with a channel) or the relay, with retry and mid-body resumption. */
export async function obtain(
  request: Request,
  url: URL,
  clientId: string,
  resultingClientId: string,
  deps: RouterDeps,
  signal: AbortSignal,
  /** The frame document fetched ahead of a top-level navigation (frame-prefetch.ts): route-decision.ts rule 3b. */
  prefetch = false,
): Promise<Obtained> {
  const method = request.method.toUpperCase();
  const context = sameSiteContext(request, url);
  await deps.registry.ensureSynced();

  const target = url.pathname + url.search;
  const paths = deps.paths;
  // A SW sees no Content-Length on an intercepted request; the shim declares a large body's size.
  const declared = Number(request.headers.get('content-length') ?? request.headers.get(BODY_BYTES_HEADER) ?? '');
  const upload = declared >= BULK_MIN_BYTES;
  const cls: RequestClass | undefined = paths?.requestClass({
    method,
    target,
    hasRange: request.headers.has('range'),
    ...(declared > 0 ? { bodyBytes: declared } : {}),
  });
  const c: Carry = { request, url, clientId, deps, signal, method, context, target, paths, cls, started: performance.now() };
  const excluded = deps.registry.isExcluded(url.pathname);
  let shell = excluded ? undefined : await deps.registry.pick(clientId, resultingClientId);
  // mayWait: the first verdict may hold the request for a channel; the one after the wait may not.
  const facts = (mayWait: boolean): RouteFacts => ({
    excluded,
    channel: shell ? { turn: shell.turn, private: shell.private } : undefined,
    channelComing: mayWait && deps.registry.channelComing(),
    privateWaiting: mayWait && deps.registry.privateWithoutChannel(),
    relayInFlight: paths?.inFlightOn('relay') ?? 0,
    // This request is one of those taken (sw.ts).
    othersInFlight: paths?.othersInFlight(true) ?? 0,
    relayParallel: RELAY_PARALLEL_REQUESTS,
    p2pStalls: paths?.stalls('p2p') ?? false,
    probing: shell?.probing === true,
    cls,
    upload,
    prefetch,
  });
  const before = paths ? { ...paths.preferred } : undefined;
  let verdict = decideRoute(facts(!shell && !excluded), paths);
  if (verdict.path === 'wait') {
    shell = await deps.registry.waitForChannel(clientId, resultingClientId, CHANNEL_COMING_WAIT_MS);
    // The wait is no part of either path's time.
    c.started = performance.now();
    verdict = decideRoute(facts(false), paths);
  }
  // The shell's badge shows which classes go over the relay.
  if (shell && paths && cls && before && paths.preferred[cls] !== before[cls])
    shell.post({ type: 'wingman:paths', ...paths.preferred } satisfies PathsUpdate, []);
  if (verdict.path === 'relay' || !shell) return viaRelay(c, verdict.reason, { kind: 'unread' });
  // Over P2P the SW writes the whole Cookie header: read back what the app's JS changed first.
  const [cookie, body] = await Promise.all([deps.cookies.headerFor(url, context), prepareBody(request)]);
  const head = p2pHead(request, url, cookie, verdict.reason, contentLengthOf(method, body), deps.followUps?.originOf(request));
  deps.routes?.count('p2p', verdict.reason);
  const alone = paths?.started('p2p') ?? false;
  let outcome: Awaited<ReturnType<typeof fetchViaShell>>;
  try {
    outcome = await fetchViaShell({
      shell,
      head,
      body: bodyStream(body),
      signal,
      stillThere: async () => (await deps.scope.clients.get(shell.id)) !== undefined,
    });
  } finally {
    paths?.finished('p2p');
  }
  if (outcome.kind === 'declined') return viaRelay(c, 'declined', { kind: 'prepared', body });
  /** The path's time to the head: the request's, less what the agent and the app took. */
  let agentMs = 0;
  const pathMs = () => Math.max(0, performance.now() - c.started - agentMs);
  if (outcome.kind === 'response') {
    agentMs = takeAgentTime(outcome.headers);
    keepForFollowUp(c, outcome.status, outcome.headers.find(([n]) => n === 'location')?.[1], body.kind === 'bytes' ? body.bytes : null);
    return fromChannel(c, shell, outcome, pathMs, alone);
  }
  const { error } = outcome;
  if (signal.aborted) return { kind: 'final', response: Response.error() };
  if (error.channelFailure && IDEMPOTENT.has(method) && !outcome.bodySent) return viaRelay(c, 'channel-failed', { kind: 'prepared', body });
  const response =
    error.code === 'ERR_TIMEOUT'
      ? errorResponse(504, error.code, 'The shared app did not answer in time.')
      : errorResponse(
          502,
          error.code,
          `The peer-to-peer connection failed during this ${method} request (${error.message}). It was not retried over the relay because its body was already sent or the method is not idempotent; try again.`,
        );
  response.headers.set(ROUTE_HEADER, routeHeaderValue('p2p', verdict.reason));
  return { kind: 'final', response };
}

/** What the steps of obtain() share about the one request they carry. */
interface Carry {
  request: Request;
  url: URL;
  clientId: string;
  deps: RouterDeps;
  signal: AbortSignal;
  /** The request's method, upper case. */
  method: string;
  context: RequestContext;
  /** Path and query. */
  target: string;
  paths: PathChooser | undefined;
  cls: RequestClass | undefined;
  /** When the path's time starts: a wait for a channel is no part of either path's time. */
  started: number;
}

/** A redirect the page will follow: what WebKit leaves off its follow-up is kept (redirect-follow-ups.ts). */
function keepForFollowUp(c: Carry, status: number, location: string | null | undefined, bytes: ArrayBuffer | Uint8Array | null): void {
  const { deps, request, url, clientId } = c;
  // A navigation's follow-up is left to the browser: a Request rebuilt with its body could not stay a navigation.
  if (!deps.followUps || location == null || request.mode === 'navigate') return;
  let target: string;
  try {
    target = new URL(location, url).href;
  } catch {
    return;
  }
  deps.followUps.keep(clientId, request, status, target, bytes);
}

/** A response head from the channel: measured, raced for a large GET, resumable from the relay should the channel fail mid-body. */
function fromChannel(
  c: Carry,
  shell: ShellTarget,
  outcome: Extract<ShellOutcome, { kind: 'response' }>,
  /** The path's time to the head so far. */
  pathMs: () => number,
  /** The request was the only one on the path when it started (PathChooser.started). */
  alone: boolean,
): Obtained | Promise<Obtained> {
  const { paths, cls, method, target, request, url, deps, context } = c;
  // Before anything reads the body: what follows sees the app's bytes and head.
  const response = channelDecoded(outcome);
  const length = Number(response.headers.find(([n]) => n === 'content-length')?.[1] ?? '');
  // A small body that came with its head: the page's Response is built from the bytes, no stream to feed.
  const whole = inHand(response, length);
  if (whole) {
    if (paths) {
      paths.recordHead('p2p', cls!, pathMs(), performance.now(), alone);
      paths.recordBody('p2p', method, target, whole.length, 0);
    }
    return { kind: 'incoming', incoming: { status: response.status, headers: response.headers, body: null, bytes: whole, transport: 'p2p' } };
  }
  let body = response.body;
  // A large GET while the relay's bulk rate is unknown: both paths carry it until one is clearly faster.
  if (
    paths &&
    body &&
    method === 'GET' &&
    response.status === 200 &&
    length >= RACE_MIN_BYTES &&
    paths.wantsRace() &&
    !request.headers.has('range') &&
    request.mode !== 'navigate'
  ) {
    paths.recordHead('p2p', cls!, pathMs(), performance.now(), alone);
    return race(c, shell, paths, { status: response.status, headers: response.headers }, body, length);
  }
  if (paths) {
    paths.recordHead('p2p', cls!, pathMs(), performance.now(), alone);
    // A body declared small is no throughput sample: its length is all there is to keep, without a stream hop.
    if (length > 0 && length < BULK_MIN_BYTES) paths.recordBody('p2p', method, target, length, 0);
    else body = measured(body, (bytes, ms) => paths.recordBody('p2p', method, target, bytes, ms))!;
  }
  const encoded = response.headers.some(([n, v]) => n === 'content-encoding' && v !== 'identity');
  if (method === 'GET' && !encoded)
    body = resumableBody(body, (offset) => resumeViaRelay(request, url, response.status, response.headers, offset, deps.cookies, context));
  return { kind: 'incoming', incoming: { status: response.status, headers: response.headers, body, transport: 'p2p' } };
}

/** The whole body of a response declared small that arrived with its head; undefined otherwise (the body is then untouched). */
function inHand(response: Extract<ShellOutcome, { kind: 'response' }>, length: number): Uint8Array | undefined {
  if (!response.headers.some(([n]) => n === 'content-length') || !(length < BULK_MIN_BYTES)) return undefined;
  return response.whole();
}

/** Races a P2P body against the same GET over the relay (bulk-race.ts); the winner's head and the whole body go to the page. */
async function race(
  c: Carry,
  shell: ShellTarget,
  paths: PathChooser,
  head: Pick<Incoming, 'status' | 'headers'>,
  body: ReadableStream<Uint8Array>,
  length: number,
): Promise<Obtained> {
  const { request, deps, url, context, signal, method, target } = c;
  let relayRes: Response | undefined;
  // Fetched only if P2P alone is not fast enough (bulk-race.ts).
  const relayLeg = async () => {
    const res = await relayFetch(request, { cookie: await deps.cookies.relayHeaderFor(url, context), body: null, signal, route: 'race' });
    if (!res.body) return null;
    relayRes = res;
    return { head: incomingFromRelay(res), body: res.body };
  };
  const r = await raceBodies(body, relayLeg, head, signal);
  if (paths.recordRace(r.bytesPerS, r.winner)) shell.post({ type: 'wingman:paths', ...paths.preferred } satisfies PathsUpdate, []);
  paths.recordBody(r.winner, method, target, length, 0);
  if (r.winner === 'relay') return { kind: 'incoming', incoming: { ...incomingFromRelay(relayRes!), body: r.body } };
  const resumable = resumableBody(r.body, (offset) => resumeViaRelay(request, url, head.status, head.headers, offset, deps.cookies, context));
  return { kind: 'incoming', incoming: { ...head, body: resumable, transport: 'p2p' } };
}

/** `body`: unread (the request's own), or what the P2P attempt prepared and did not send. */
async function viaRelay(c: Carry, reason: RouteReason, source: { kind: 'unread' } | { kind: 'prepared'; body: PreparedBody }): Promise<Obtained> {
  const { deps, request, method, url, context, paths, signal, cls, target } = c;
  deps.routes?.count('relay', reason);
  const body = await relayBody(request, method, source);
  // Over the relay the browser adds its own jar to the SW's fetch: no read-back to wait for.
  const cookie = await deps.cookies.relayHeaderFor(url, context);
  const alone = paths?.started('relay') ?? false;
  let res: Response;
  try {
    res = await relayFetch(request, { cookie, body, signal, route: reason, origin: deps.followUps?.originOf(request) });
  } finally {
    paths?.finished('relay');
  }
  keepForFollowUp(c, Number(res.headers.get(SW_STATUS_HEADER)), res.headers.get('location'), body);
  if (!paths || !cls) return { kind: 'relay', res };
  paths.recordHead('relay', cls, performance.now() - c.started, performance.now(), alone);
  // Only a bulk body is measured (it then goes through buildResponse, not as the relay's Response itself);
  // a small one tells its size by Content-Length, if at all.
  if (cls === 'small' || !res.body) {
    const length = Number(res.headers.get('content-length') ?? '');
    if (length > 0) paths.recordBody('relay', method, target, length, 0);
    return { kind: 'relay', res };
  }
  const incoming = incomingFromRelay(res);
  return { kind: 'incoming', incoming: { ...incoming, body: measured(incoming.body, (bytes, ms) => paths.recordBody('relay', method, target, bytes, ms)) } };
}

/**
 * Fetches the rest of a GET from the relay, `offset` bytes in. Uses Range
 * (with If-Range when the first response had a strong validator) for a 200
 * that advertised byte ranges; otherwise re-fetches and skips `offset` bytes.
 */
async function resumeViaRelay(
  request: Request,
  url: URL,
  status: number,
  headers: WireHeaders,
  offset: number,
  cookies: SwCookies,
  context: RequestContext,
): Promise<ReadableStream<Uint8Array>> {
  const get = (n: string) => headers.find(([k]) => k === n)?.[1];
  const etag = get('etag');
  const validator = etag && !etag.startsWith('W/') ? etag : get('last-modified');
  const ranged = status === 200 && offset > 0 && get('accept-ranges') === 'bytes' && !request.headers.has('range');
  const extraHeaders: Array<[string, string]> = ranged
    ? [['range', `bytes=${offset}-`], ...(validator ? [['if-range', validator] as [string, string]] : [])]
    : [];
  const cookie = await cookies.relayHeaderFor(url, context);
  const res = await relayFetch(request, { cookie, body: null, extraHeaders, route: 'channel-failed' });
  if (!res.body) throw new ChannelError('ERR_CONNECTION_LOST', 'the relay answered the resumption without a body', false);
  if (ranged && res.status === 206 && (res.headers.get('content-range') ?? '').startsWith(`bytes ${offset}-`)) return res.body;
  if (res.status === status) return skipBytes(res.body, offset);
  void res.body.cancel().catch(() => undefined);
  throw new ChannelError('ERR_CONNECTION_LOST', `the data channel failed mid-response and the relay answered the resumption with ${res.status}`, false);
}
