/**
 * What WebKit leaves off the follow-up of a redirect a Service Worker answered, given back by the SW:
 * a 307/308's body (WebKit sends `Content-Length: 0`) and the Origin of a follow-up turned into GET.
 * Kept per redirect of a `fetch()`, bounded, each taken once. docs/browser-client.md §Fidelity.
 */

/** The largest request body kept for a 307/308 follow-up, bytes (docs/operations.md, Limits). */
export const REDIRECT_BODY_MAX_BYTES = 1024 * 1024;
/** How long a kept body or Origin waits for its follow-up, ms: the browser follows a redirect at once. */
export const REDIRECT_FOLLOW_UP_MEMORY_MS = 10_000;
/** Follow-ups remembered at most (each body ≤ REDIRECT_BODY_MAX_BYTES). */
export const MAX_REDIRECT_FOLLOW_UPS = 8;

/** WebKit, whatever the browser's brand (Safari, iOS browsers, WebKitGTK): AppleWebKit without Chromium's token. */
export function isWebKit(userAgent: string): boolean {
  return /AppleWebKit\//.test(userAgent) && !/(Chrome|Chromium)\//.test(userAgent);
}

interface Kept {
  bytes?: ArrayBuffer;
  origin?: string;
  at: number;
}

const keyOf = (clientId: string, method: string, url: string) => `${clientId} ${method.toUpperCase()} ${url}`;

/** Whether a redirect turns the request's method into GET (Fetch "HTTP-redirect fetch"). */
function turnsIntoGet(status: number, method: string): boolean {
  return (status === 303 && method !== 'GET' && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
}

export class RedirectFollowUps {
  private readonly kept = new Map<string, Kept>();
  private readonly origins = new WeakMap<Request, string>();

  /** `keepsOrigin`: the engine writes Origin on a follow-up turned into GET (WebKit) and leaves it off when a SW answered the redirect. */
  constructor(
    private readonly keepsOrigin: boolean = isWebKit(navigator.userAgent),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The SW answers `request` from `clientId` with `status` to `target` (absolute URL); `bytes`: the body as it was sent. */
  keep(clientId: string, request: { method: string; url: string }, status: number, target: string, bytes: ArrayBuffer | Uint8Array | null): void {
    const method = request.method.toUpperCase();
    let entry: { key: string; kept: Kept } | undefined;
    if ((status === 307 || status === 308) && bytes && bytes.byteLength > 0 && bytes.byteLength <= REDIRECT_BODY_MAX_BYTES) {
      const copy = bytes instanceof Uint8Array ? bytes.slice().buffer : bytes.slice(0);
      entry = { key: keyOf(clientId, method, target), kept: { bytes: copy, at: this.now() } };
    } else if (this.keepsOrigin && turnsIntoGet(status, method)) {
      entry = { key: keyOf(clientId, 'GET', target), kept: { origin: new URL(request.url).origin, at: this.now() } };
    }
    if (!entry) return;
    this.kept.delete(entry.key);
    this.kept.set(entry.key, entry.kept);
    while (this.kept.size > MAX_REDIRECT_FOLLOW_UPS) this.kept.delete(this.kept.keys().next().value as string);
  }

  /** The follow-up of a kept redirect with what its engine left off: its body as its own, its Origin for originOf(). */
  async restore(request: Request, clientId: string): Promise<Request> {
    if (this.kept.size === 0) return request;
    const key = keyOf(clientId, request.method, request.url);
    const kept = this.kept.get(key);
    if (!kept) return request;
    this.kept.delete(key);
    if (this.now() - kept.at > REDIRECT_FOLLOW_UP_MEMORY_MS) return request;
    if (kept.origin !== undefined) {
      this.origins.set(request, kept.origin);
      return request;
    }
    // The follow-up brought its body (Chromium, Firefox; Firefox has no Request.body): nothing to give back.
    if (request.body !== null && (await request.clone().arrayBuffer()).byteLength > 0) return request;
    // An init resets the referrer to the SW's own client: the page's goes back in explicitly.
    return new Request(request, { body: kept.bytes!, referrer: request.referrer, referrerPolicy: request.referrerPolicy });
  }

  /** The Origin the engine would have written on this follow-up (restore() marked it), if any. */
  originOf(request: Request): string | undefined {
    return this.origins.get(request);
  }
}
