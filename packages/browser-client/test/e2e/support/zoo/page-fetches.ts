/**
 * What a page sees of a list of requests, made one after the other with
 * fetch() from inside a document (the app's frame through Wingman, or a
 * page straight on the app): status, body length and SHA-256, the fields a
 * page reads, or the error fetch() or the body's read rejected with. Two
 * runs of the same list compare with `expect(...).toEqual(...)` once the
 * path each took is set aside (withoutPath).
 */
import { inPage, type AnyFrame, type AnyPage } from '../shell';

export interface ZooRequest {
  method: 'GET' | 'HEAD' | 'POST';
  target: string;
  /** POST: a body of this many bytes of the fixture pattern (the page builds it the same way every time). */
  uploadBytes?: number;
  /**
   * Only the status counts: the body may name the address the page used (a
   * server's error page: WEBrick's names the X-Forwarded-Host, the session's
   * through Wingman), which differs from the direct run by design.
   */
  statusOnly?: boolean;
}

export interface PageOutcome {
  request: string;
  status?: number;
  bytes?: number;
  sha256?: string;
  /** The response's Content-Length as the page reads it (a HEAD answer's only news). */
  contentLength?: string | null;
  /** `name: message` of the rejection: a refused request, or a body that broke off. */
  error?: string;
  /** x-wingman-transport: which path carried it (null straight on the app). */
  transport?: string | null;
  /** x-wingman-route: the path the Service Worker gave it and why (null without one). */
  route?: string | null;
}

/** Runs `requests` in order in `target` (a page or the app's frame); one outcome each. */
export function pageFetches(target: AnyPage | AnyFrame, requests: ZooRequest[]): Promise<PageOutcome[]> {
  return inPage(
    target,
    async (requests) => {
      const hex = (buf: ArrayBuffer) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
      const outcomes: PageOutcome[] = [];
      for (const { method, target, uploadBytes, statusOnly } of requests) {
        const request = `${method} ${target}${uploadBytes === undefined ? '' : ` (${uploadBytes} bytes up)`}`;
        let body: Uint8Array<ArrayBuffer> | undefined;
        if (uploadBytes !== undefined) {
          body = new Uint8Array(uploadBytes);
          for (let i = 0; i < uploadBytes; i++) body[i] = (i * 31 + 7) % 251;
        }
        const outcome: PageOutcome = { request };
        try {
          // no-store: every request reaches the network (the Service Worker's, or the app), none the HTTP cache.
          const r = await fetch(target, { method, cache: 'no-store', ...(body ? { body } : {}) });
          outcome.status = r.status;
          outcome.transport = r.headers.get('x-wingman-transport');
          outcome.route = r.headers.get('x-wingman-route');
          const bytes = await r.arrayBuffer();
          if (!statusOnly) {
            outcome.contentLength = r.headers.get('content-length');
            outcome.bytes = bytes.byteLength;
            outcome.sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
          }
        } catch (err) {
          outcome.error = `${(err as Error).name}: ${(err as Error).message}`;
        }
        outcomes.push(outcome);
      }
      return outcomes;
    },
    requests,
  );
}

/** The outcomes without the path each took, to compare a Wingman run with the direct one. */
export function withoutPath(outcomes: PageOutcome[]): PageOutcome[] {
  return outcomes.map(({ transport: _transport, route: _route, ...rest }) => rest);
}

/** The requests of `outcomes` that reached the page over another path than `transport` (an error carries none), each with its route and why. */
export function offPath(outcomes: PageOutcome[], transport: 'p2p' | 'relay'): string[] {
  return outcomes
    .filter((o) => o.error === undefined && o.transport !== transport)
    .map((o) => `${o.request}: ${o.transport ?? 'no transport header'} (route: ${o.route ?? 'none'})`);
}
