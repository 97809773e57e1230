/**
 * One intercepted request: P2P through a shell when one has an open channel,
 * the relay otherwise — never waiting on ICE. A channel that fails before
 * the response head sends idempotent requests whose body was not consumed
 * to the relay; one that fails mid-body resumes a GET from the relay at the
 * byte where it stopped (Range when possible, else re-fetch and skip).
 * Anything else fails with a readable error page.
 */
import { ABORT_ID_HEADER, WINGMAN_PREFIX } from '../shared/constants';
import type { RequestContext } from '../shared/cookie-jar';
import type { AbortRegistry } from './abort-registry';
import type { WireHeaders } from '../shared/messages';
import { buildResponse, canDecode, incomingFromRelay, relayPassThrough } from './build-response';
import type { SwCookies } from './cookies';
import { errorResponse } from './error-response';
import { ChannelError } from './errors';
import { relayFetch } from './relay-fetch';
import { resumableBody, skipBytes } from './resumable-body';
import { fetchViaShell } from './shell-fetch';
import type { ShellRegistry } from './shell-registry';

/** RFC 9110 §9.2.2 (TRACE aside). Retried over the relay only when no body bytes left for the failed channel. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export interface RouterDeps {
  scope: ServiceWorkerGlobalScope;
  registry: ShellRegistry;
  cookies: SwCookies;
  aborts: AbortRegistry;
}

/** Which fetch events this SW answers. Top-level navigations go to the network: the tunnel server answers them with the shell. */
export function shouldHandle(request: Request, url: URL, origin: string): boolean {
  if (url.origin !== origin) return false;
  if (url.pathname.startsWith(WINGMAN_PREFIX)) return false;
  if (request.mode === 'navigate' && request.destination === 'document') return false;
  return true;
}

function sameSiteContext(request: Request, url: URL): RequestContext {
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
function p2pHead(request: Request, url: URL, cookie: string): { method: string; target: string; headers: WireHeaders } {
  const headers: WireHeaders = [['host', url.host]];
  request.headers.forEach((value, name) => {
    if (name === 'host' || name === 'cookie' || name.startsWith('x-wingman-')) return;
    headers.push([name, value]);
  });
  if (cookie) headers.push(['cookie', cookie]);
  if (request.referrer && request.referrer !== 'about:client') headers.push(['referer', request.referrer]);
  const method = request.method.toUpperCase();
  // Browsers send Origin with same-origin requests other than GET/HEAD (Fetch §3.1); CSRF checks rely on it.
  if (method !== 'GET' && method !== 'HEAD') headers.push(['origin', url.origin]);
  if (!request.headers.has('user-agent')) headers.push(['user-agent', navigator.userAgent]);
  headers.push(['accept-encoding', canDecode('gzip') ? 'gzip, deflate' : 'identity']);
  headers.push(['sec-fetch-site', 'same-origin'], ['sec-fetch-mode', request.mode], ['sec-fetch-dest', request.destination || 'empty']);
  return { method, target: url.pathname + url.search, headers };
}

/** The request body as a stream for P2P, or null when there is none. */
function bodyStream(request: Request, method: string): ReadableStream<Uint8Array> | null {
  if (method === 'GET' || method === 'HEAD') return null;
  // Request.body exists in Chromium and Safari; Firefox lacks it: read it whole.
  if ('body' in Request.prototype) return request.body;
  return new ReadableStream({
    async start(controller) {
      controller.enqueue(new Uint8Array(await request.arrayBuffer()));
      controller.close();
    },
  });
}

export async function handleRequest(event: FetchEvent, deps: RouterDeps): Promise<Response> {
  const { signal, done } = deps.aborts.track(event.request, event.request.headers.get(ABORT_ID_HEADER));
  try {
    return await route(event, deps, signal);
  } finally {
    // Past the head, an abort cancels the response body, which both paths handle.
    done();
  }
}

async function route(event: FetchEvent, deps: RouterDeps, signal: AbortSignal): Promise<Response> {
  const { request } = event;
  const url = new URL(request.url);
  const method = request.method.toUpperCase();
  const context = sameSiteContext(request, url);
  await deps.registry.ensureSynced();
  const cookie = await deps.cookies.headerFor(url, context);
  const ctx = { request, url, cookies: deps.cookies };

  const shell = deps.registry.isExcluded(url.pathname) ? undefined : await deps.registry.pick(event.clientId, event.resultingClientId);
  if (shell) {
    const outcome = await fetchViaShell({
      shell,
      head: p2pHead(request, url, cookie),
      body: bodyStream(request, method),
      signal,
      stillThere: async () => (await deps.scope.clients.get(shell.id)) !== undefined,
    });
    if (outcome.kind === 'response') {
      let body = outcome.body;
      const encoded = outcome.headers.some(([n, v]) => n === 'content-encoding' && v !== 'identity');
      if (method === 'GET' && !encoded) body = resumableBody(body, (offset) => resumeViaRelay(request, url, outcome.status, outcome.headers, offset, deps.cookies, context));
      return buildResponse({ status: outcome.status, headers: outcome.headers, body, transport: 'p2p' }, ctx);
    }
    if (outcome.kind === 'failed') {
      const { error } = outcome;
      if (signal.aborted) return Response.error();
      const retry = error.channelFailure && IDEMPOTENT.has(method) && !outcome.bodySent;
      if (!retry) {
        return error.code === 'ERR_TIMEOUT'
          ? errorResponse(504, error.code, 'The shared app did not answer in time.')
          : errorResponse(502, error.code, `The peer-to-peer connection failed during this ${method} request (${error.message}). It was not retried over the relay because its body was already sent or the method is not idempotent; try again.`);
      }
    }
  }
  const body = method === 'GET' || method === 'HEAD' ? null : await request.arrayBuffer();
  const res = await relayFetch(request, { cookie, body, signal });
  if (relayPassThrough(res, request)) return res;
  return buildResponse(incomingFromRelay(res), ctx);
}

/**
 * Fetches the rest of a GET from the relay, `offset` bytes in. Uses Range
 * (with If-Range when the first response had a strong validator) for a 200
 * that advertised byte ranges; otherwise re-fetches and skips `offset` bytes.
 */
async function resumeViaRelay(request: Request, url: URL, status: number, headers: WireHeaders, offset: number, cookies: SwCookies, context: RequestContext): Promise<ReadableStream<Uint8Array>> {
  const get = (n: string) => headers.find(([k]) => k === n)?.[1];
  const etag = get('etag');
  const validator = etag && !etag.startsWith('W/') ? etag : get('last-modified');
  const ranged = status === 200 && offset > 0 && get('accept-ranges') === 'bytes' && !request.headers.has('range');
  const extraHeaders: Array<[string, string]> = ranged ? [['range', `bytes=${offset}-`], ...(validator ? [['if-range', validator] as [string, string]] : [])] : [];
  const cookie = await cookies.headerFor(url, context);
  const res = await relayFetch(request, { cookie, body: null, extraHeaders });
  if (!res.body) throw new ChannelError('ERR_CONNECTION_LOST', 'the relay answered the resumption without a body', false);
  if (ranged && res.status === 206 && (res.headers.get('content-range') ?? '').startsWith(`bytes ${offset}-`)) return res.body;
  if (res.status === status) return skipBytes(res.body, offset);
  void res.body.cancel().catch(() => undefined);
  throw new ChannelError('ERR_CONNECTION_LOST', `the data channel failed mid-response and the relay answered the resumption with ${res.status}`, false);
}
