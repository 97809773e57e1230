/**
 * One intercepted request, from its fetch event to its Response, as one
 * ordered pipeline (docs/browser-client.md §Service Worker: routing one
 * request), each step a function below, in this order:
 *   onFetch        — a top-level navigation goes to the network (the tunnel server sends the shell); else
 *   leftToBrowser  — the browser fetches it itself, no respondWith (route-decision.ts leaveToBrowser); else
 *   decide         — the facts, then route-decision.ts rules 1–7 (waiting for a channel when rule 2 says so)
 *   carry          — over P2P through a shell with an open channel (overP2p), or the relay (overRelay)
 *   onHead         — measured for the path choice, raced on both paths (a large GET), resumable from the relay
 *   onFailure      — before the head: the relay for a request that can be sent again (an exchange id's: if the app never saw it), else an error page;
 *                    a static GET whose head is late on a lossy path goes over the relay too (head-watch.ts)
 * then the response rules for the requesting document (finish, build-response.ts).
 */
import { ROUTE_HEADER, SW_STATUS_HEADER } from '@wingman/protocol';
import type { EventStreamIds } from './event-stream-ids';
import { ABORT_ID_HEADER, BODY_BYTES_HEADER, BULK_MIN_BYTES, CHANNEL_COMING_WAIT_MS, WINGMAN_PREFIX } from '../shared/constants';
import { takeAgentTime } from './agent-time';
import type { RequestContext } from '../shared/cookie-jar';
import type { AbortRegistry } from './abort-registry';
import { header, type PathsUpdate } from '../shared/messages';
import { buildResponse, incomingFromRelay, NULL_BODY_STATUSES, relayPassThrough, type BuildContext, type Incoming, type Obtained } from './build-response';
import type { SwCookies } from './cookies';
import type { EarlyDocuments } from './early-document';
import { errorResponse } from './error-response';
import type { LossyPath } from './lossy-path';
import { p2pHead } from './p2p-head';
import { exchangeIdFor } from './exchange-id';
import { watchHead } from './head-watch';
import type { PathChooser, RequestClass } from './path-choice';
import { raceBodies, raceThis } from './bulk-race';
import { relayFetch, resumeViaRelay } from './relay-fetch';
import { resumableBody } from './resumable-body';
import { bodyStream, contentLengthOf, prepareBody, type PreparedBody } from './request-body';
import type { RedirectFollowUps } from './redirect-follow-ups';
import type { RouteCounter } from './route-counts';
import { decideRoute, leaveToBrowser, routeHeaderValue, type RouteFacts, type RouteReason, type RouteVerdict } from './route-decision';
import { fetchViaShell, type ShellOutcome } from './shell-fetch';
import { swSwitches } from './switches';
import type { ShellRegistry } from './shell-registry';
import type { ShellPick } from './shell-target';
import { parseUrl, anySignal } from '../shared/baseline';

/** RFC 9110 §9.2.2 (TRACE aside): without an exchange id, sent again over the relay when no body byte left. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface RouterDeps {
  scope: ServiceWorkerGlobalScope;
  registry: ShellRegistry;
  cookies: SwCookies;
  aborts: AbortRegistry;
  /** A first visit's app document the shell fetched while the SW installed. */
  earlyDocuments: EarlyDocuments;
  /** Picks P2P or the relay per request class from measurements of both. */
  paths: PathChooser;
  lossy: LossyPath;
  /** Counts each request's route for the diagnostics page (route-counts.ts). */
  routes: RouteCounter;
  /** An EventSource's Last-Event-ID on its reconnection, which Chromium does not show the SW (event-stream-ids.ts). */
  eventStreams: EventStreamIds;
  /** What WebKit leaves off a redirect's follow-up, a 307/308's body and a 303's Origin (redirect-follow-ups.ts). */
  followUps: RedirectFollowUps;
}

export function onFetch(event: FetchEvent, deps: RouterDeps): void {
  const { request } = event;
  const url = new URL(request.url);
  if (isTopLevelNavigation(request)) deps.earlyDocuments.forgetAll();
  if (!shouldHandle(request, url, deps.scope.location.origin)) return;
  if (leftToBrowser(request, url, deps)) return;
  // Counted from here, so the next fetch event of a burst sees this one (route-decision.ts RouteFacts.othersInFlight).
  const release = deps.paths.take();
  event.respondWith(
    answer(event, deps)
      .catch((err: unknown) => unreachable(request, err))
      .finally(release),
  );
}

/** Which fetch events this SW answers. Top-level navigations go to the network: the tunnel server answers them with the shell. */
function shouldHandle(request: Request, url: URL, origin: string): boolean {
  if (url.origin !== origin) return false;
  if (url.pathname.startsWith(WINGMAN_PREFIX)) return false;
  if (isTopLevelNavigation(request)) return false;
  return true;
}

function isTopLevelNavigation(request: Request): boolean {
  return request.mode === 'navigate' && request.destination === 'document';
}

/** The browser fetches it itself, as without Wingman: it would go over the relay anyway (route-decision.ts leaveToBrowser). */
function leftToBrowser(request: Request, url: URL, deps: RouterDeps): boolean {
  const { registry, paths, lossy, cookies } = deps;
  const method = request.method.toUpperCase();
  const channel = registry.hasChannelNow();
  const relayHeader = cookies.relayHeaderNow(url, sameSiteContext(request, url));
  const leave = leaveToBrowser({
    method,
    navigation: request.mode === 'navigate',
    destination: request.destination,
    tagged: request.headers.has(ABORT_ID_HEADER) || request.headers.has(BODY_BYTES_HEADER),
    settled: channel !== undefined,
    channel: channel ?? false,
    privateWaiting: registry.privateWithoutChannel(),
    p2pStalls: lossy.stalls(),
    probing: lossy.probing(),
    cookiesToAdd: relayHeader === undefined ? undefined : relayHeader !== '',
    othersInFlight: paths.othersInFlight(false),
    cls: paths.requestClass({ method, target: url.pathname + url.search, hasRange: request.headers.has('range') }),
  });
  if (leave) deps.routes.count('relay', 'to-browser');
  return leave;
}

/** The request's Response: a first visit's early document, or obtained now; then the response rules. */
async function answer(event: FetchEvent, deps: RouterDeps): Promise<Response> {
  const { signal, done } = deps.aborts.track(event.request, event.request.headers.get(ABORT_ID_HEADER));
  try {
    const arrived = deps.eventStreams.withLastEventId(event.request, event.clientId);
    const request = await deps.followUps.restore(arrived, event.clientId);
    const url = new URL(request.url);
    const fetchNow = () => obtain(request, url, event.clientId, event.resultingClientId, deps, signal);
    const early = deps.earlyDocuments.take(request, url)?.catch(fetchNow);
    const response = await finish(await (early ?? fetchNow()), { request, url, cookies: deps.cookies });
    return deps.eventStreams.track(request, event.clientId, response);
  } finally {
    // Past the head, an abort cancels the response body, which both paths handle.
    done();
  }
}

async function obtain(request: Request, url: URL, clientId: string, resultingClientId: string, deps: RouterDeps, signal: AbortSignal): Promise<Obtained> {
  await deps.registry.ensureSynced();
  const method = request.method.toUpperCase();
  const target = url.pathname + url.search;
  // A SW sees no Content-Length on an intercepted request; the shim declares a large body's size.
  const declared = Number(request.headers.get('content-length') ?? request.headers.get(BODY_BYTES_HEADER) ?? '');
  const cls = deps.paths.requestClass({ method, target, hasRange: request.headers.has('range'), ...(declared > 0 ? { bodyBytes: declared } : {}) });
  const c: Carry = { request, url, clientId, deps, signal, method, target, cls, context: sameSiteContext(request, url), started: performance.now() };
  const { verdict, shell } = await decide(c, resultingClientId, declared >= BULK_MIN_BYTES);
  if (verdict.path === 'relay' || !shell) return overRelay(c, verdict.reason, { kind: 'unread' });
  return overP2p(c, shell, verdict.reason);
}

/** What the steps share about the one request they carry. */
interface Carry {
  request: Request;
  url: URL;
  clientId: string;
  deps: RouterDeps;
  signal: AbortSignal;
  method: string;
  /** Path and query. */
  target: string;
  cls: RequestClass;
  context: RequestContext;
  /** When the path's time starts: a wait for a channel is no part of either path's time. */
  started: number;
}

/** The route-decision.ts verdict, from the facts; a verdict to wait is decided again after the wait. */
async function decide(c: Carry, resultingClientId: string, upload: boolean): Promise<{ verdict: RouteVerdict; shell: ShellPick | undefined }> {
  const { deps, url, clientId, cls } = c;
  const { registry, paths, lossy } = deps;
  const excluded = registry.isExcluded(url.pathname);
  let shell = excluded ? undefined : await registry.pick(clientId, resultingClientId);
  // mayWait: the first verdict may hold the request for a channel; the one after the wait may not.
  const facts = (mayWait: boolean): RouteFacts => ({
    excluded,
    channel: shell ? { turn: shell.turn, private: shell.private } : undefined,
    privateWaiting: mayWait && registry.privateWithoutChannel(),
    // This request is one of those taken (onFetch).
    othersInFlight: paths.othersInFlight(true),
    p2pStalls: lossy.stalls(),
    probing: shell !== undefined && lossy.probing(shell.shellId),
    cls,
    upload,
    pathChoice: swSwitches.on('pathChoice'),
  });
  const before = { ...paths.preferred };
  let verdict = decideRoute(facts(!shell && !excluded), paths);
  if (verdict.path === 'wait') {
    shell = await registry.waitForChannel(clientId, resultingClientId, CHANNEL_COMING_WAIT_MS);
    c.started = performance.now();
    verdict = decideRoute(facts(false), paths);
  }
  // The shell's badge shows which classes go over the relay.
  if (shell && paths.preferred[cls] !== before[cls]) shell.post({ type: 'wingman:paths', ...paths.preferred } satisfies PathsUpdate, []);
  return { verdict, shell };
}

/** Carries the request through a shell's channel; its head goes to onHead, a decline to the relay, a failure to onFailure. */
async function overP2p(c: Carry, shell: ShellPick, reason: RouteReason): Promise<Obtained> {
  const { deps, request, url, method, context, signal } = c;
  // Over P2P the SW writes the whole Cookie header: read back what the app's JS changed first.
  const [cookie, body] = await Promise.all([deps.cookies.headerFor(url, context), prepareBody(request)]);
  const exchange = exchangeIdFor(method, body);
  const head = p2pHead(request, url, cookie, reason, contentLengthOf(method, body), deps.followUps.originOf(request), exchange);
  deps.routes.count('p2p', reason);
  const alone = deps.paths.started();
  const watch = watchHead(method, request.destination, () => deps.lossy.stalls());
  let outcome: ShellOutcome;
  try {
    const stillThere = async () => (await deps.scope.clients.get(shell.id)) !== undefined;
    const either = watch ? anySignal([signal, watch.signal]) : signal;
    outcome = await fetchViaShell({ shell, head, body: bodyStream(body, exchange !== undefined), signal: either, stillThere });
  } finally {
    watch?.stop();
    deps.paths.finished();
  }
  if (watch?.signal.aborted && !signal.aborted) return overRelay(c, 'head-stalled', { kind: 'prepared', body });
  if (outcome.kind === 'declined') return overRelay(c, 'declined', { kind: 'prepared', body });
  if (outcome.kind === 'failed') return onFailure(c, outcome, body, reason, exchange);
  // The path's time to the head: the request's, less what the agent and the app took.
  const agentMs = takeAgentTime(outcome.headers);
  const pathMs = Math.max(0, performance.now() - c.started - agentMs);
  keepForFollowUp(c, outcome.status, header(outcome.headers, 'location'), body.kind === 'bytes' ? body.bytes : null);
  return onHead(c, shell, outcome, pathMs, alone);
}

/**
 * The channel failed before the head: the relay for a request that can be sent again (one with an
 * exchange id whatever left: the agent forwards it only if the app never saw it), else an error page.
 */
function onFailure(
  c: Carry,
  outcome: Extract<ShellOutcome, { kind: 'failed' }>,
  body: PreparedBody,
  reason: RouteReason,
  exchange: string | undefined,
): Obtained | Promise<Obtained> {
  const { error } = outcome;
  if (c.signal.aborted) return { kind: 'final', response: Response.error() };
  if (error.channelFailure && exchange !== undefined) return overRelay(c, 'channel-failed', { kind: 'prepared', body }, exchange);
  if (error.channelFailure && IDEMPOTENT.has(c.method) && !outcome.bodySent) return overRelay(c, 'channel-failed', { kind: 'prepared', body });
  const response =
    error.code === 'ERR_TIMEOUT'
      ? errorResponse(504, error.code, 'The shared app did not answer in time.')
      : errorResponse(
          502,
          error.code,
          `The peer-to-peer connection failed during this ${c.method} request (${error.message}). ${error.channelFailure ? 'It was not sent again over the relay: part of its body had left while the rest still streamed, and the rest alone cannot be sent; try again.' : 'Try again.'}`,
        );
  response.headers.set(ROUTE_HEADER, routeHeaderValue('p2p', reason));
  return { kind: 'final', response };
}

/** Neither path could serve the request (the pipeline threw). */
function unreachable(request: Request, err: unknown): Response {
  if (request.signal.aborted) return Response.error();
  return errorResponse(
    502,
    'ERR_UPSTREAM_UNREACHABLE',
    `Neither the peer-to-peer channel nor the relay could serve this request (${(err as Error)?.message ?? String(err)}).`,
  );
}

/** A response head from the channel: measured, raced for a large GET, resumable from the relay should the channel fail mid-body. */
function onHead(
  c: Carry,
  shell: ShellPick,
  response: Extract<ShellOutcome, { kind: 'response' }>,
  pathMs: number,
  /** The request was alone on the path when it started (PathChooser.started). */
  alone: boolean,
): Obtained | Promise<Obtained> {
  const { cls, method, target, request, deps } = c;
  const paths = deps.paths;
  const length = Number(header(response.headers, 'content-length') ?? '');
  paths.recordHead(cls, pathMs, performance.now(), alone);
  // A small body that came with its head: the page's Response is built from the bytes, no stream to feed.
  const whole = header(response.headers, 'content-length') !== undefined && length < BULK_MIN_BYTES ? response.whole() : undefined;
  if (whole) {
    paths.recordBody('p2p', method, target, whole.length, 0);
    return { kind: 'incoming', incoming: { status: response.status, headers: response.headers, body: null, bytes: whole, transport: 'p2p' } };
  }
  let body = response.body;
  const head = { status: response.status, headers: response.headers };
  // A large GET while the relay's bulk rate is unknown: both paths carry it until one is clearly faster.
  const raced = raceThis({
    method,
    status: response.status,
    length,
    range: request.headers.has('range'),
    navigate: request.mode === 'navigate',
    wanted: paths.wantsRace(),
    on: swSwitches.on('bulkRace'),
  });
  if (body && raced) return race(c, shell, head, body, length);
  // A body declared small is no throughput sample: its length is all there is to keep, without a stream hop.
  if (length > 0 && length < BULK_MIN_BYTES) paths.recordBody('p2p', method, target, length, 0);
  else body = measured(body, (bytes, ms) => paths.recordBody('p2p', method, target, bytes, ms))!;
  const encoded = response.headers.some(([n, v]) => n === 'content-encoding' && v !== 'identity');
  if (method === 'GET' && !encoded) body = resumable(c, head, body);
  return { kind: 'incoming', incoming: { ...head, body, transport: 'p2p' } };
}

/** Races a P2P body against the same GET over the relay (bulk-race.ts); the winner's head and the whole body go to the page. */
async function race(
  c: Carry,
  shell: ShellPick,
  head: Pick<Incoming, 'status' | 'headers'>,
  body: ReadableStream<Uint8Array>,
  length: number,
): Promise<Obtained> {
  const { request, deps, url, context, signal, method, target } = c;
  const paths = deps.paths;
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
  return { kind: 'incoming', incoming: { ...head, body: resumable(c, head, r.body), transport: 'p2p' } };
}

/** A P2P body whose rest comes from the relay should the channel fail, or stall on a lossy path, mid-body (counted as its reason). */
function resumable(c: Carry, head: Pick<Incoming, 'status' | 'headers'>, body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const { request, url, deps, context } = c;
  return resumableBody(
    body,
    async (offset, why) => {
      const rest = await resumeViaRelay(request, url, head, offset, deps.cookies, context, why);
      deps.routes.count('relay', why);
      return rest;
    },
    { stalls: () => deps.lossy.stalls() },
  );
}

/** Carries the request over the relay; `exchange`: the id of the failed P2P exchange it is sent again for (onFailure). */
async function overRelay(
  c: Carry,
  reason: RouteReason,
  source: { kind: 'unread' } | { kind: 'prepared'; body: PreparedBody },
  exchange?: string,
): Promise<Obtained> {
  const { deps, request, method, url, context, signal, cls, target } = c;
  const paths = deps.paths;
  deps.routes.count('relay', reason);
  const body = await relayBody(request, method, source);
  // Over the relay the browser adds its own jar to the SW's fetch: no read-back to wait for.
  const cookie = await deps.cookies.relayHeaderFor(url, context);
  const res = await relayFetch(request, { cookie, body, signal, route: reason, origin: deps.followUps.originOf(request), exchange });
  keepForFollowUp(c, Number(res.headers.get(SW_STATUS_HEADER)), res.headers.get('location'), body);
  // Only a bulk body is measured (through buildResponse); a small one tells its size by Content-Length, if at all.
  if (cls === 'small' || !res.body) {
    const length = Number(res.headers.get('content-length') ?? '');
    if (length > 0) paths.recordBody('relay', method, target, length, 0);
    return { kind: 'relay', res };
  }
  const incoming = incomingFromRelay(res);
  return { kind: 'incoming', incoming: { ...incoming, body: measured(incoming.body, (bytes, ms) => paths.recordBody('relay', method, target, bytes, ms)) } };
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

/** A redirect the page will follow: what WebKit leaves off its follow-up is kept (redirect-follow-ups.ts). */
function keepForFollowUp(c: Carry, status: number, location: string | null | undefined, bytes: ArrayBuffer | Uint8Array | null): void {
  const { deps, request, url, clientId } = c;
  // A navigation's follow-up is left to the browser: a Request rebuilt with its body could not stay a navigation.
  if (location == null || request.mode === 'navigate') return;
  const target = parseUrl(location, url)?.href;
  if (target !== undefined) deps.followUps.keep(clientId, request, status, target, bytes);
}

/** Counts a body's bytes as it is read, reported with the time from the first read to the end (the transfer, not the wait for the app). */
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

function sameSiteContext(request: Request, url: URL): RequestContext {
  const referrer = request.referrer && request.referrer !== 'about:client' ? parseUrl(request.referrer) : null;
  return { crossSite: referrer !== null && referrer.origin !== url.origin, safeTopLevelNavigation: request.mode === 'navigate' && request.method === 'GET' };
}

/**
 * The relay's Response as the page gets it: rebuilt without the fetch's own
 * URL list, which the page's fetch would take over (a redirect's follow-up
 * would say `redirected: false`). Navigations and opaque redirects go as they are.
 */
function pageResponse(res: Response, request: Request): Response {
  if (request.mode === 'navigate' || res.type === 'opaqueredirect') return res;
  const nullBody = NULL_BODY_STATUSES.has(res.status);
  if (nullBody) void res.body?.cancel().catch(() => undefined);
  return new Response(nullBody ? null : res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Applies the response rules for the request that will receive it (which may differ from the one that fetched: an early document). */
function finish(obtained: Obtained, ctx: BuildContext): Promise<Response> {
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
