/**
 * The on-demand TLS permission check (docs/operations.md §On-demand TLS permission): a terminator that issues
 * certificates on first use asks `GET <TLS_ASK_PATH>?domain=<host>` and issues only on a 200: for the apex, a session
 * this server (or cluster) knows, or a stable name a token holds; 404 otherwise, so a scanner cannot spend the CA's
 * rate limits. Apex host only; asks are throttled per address (tls-ask-limit.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSessionLabel, isSessionName } from '@wingman/protocol';
import { hostnameOf } from '../http/host-route';
import type { TlsAskLimit } from './tls-ask-limit';

/** The path the TLS terminator asks. Under the reserved prefix: on the apex host it is the server's own. */
export const TLS_ASK_PATH = '/__wingman/tls-ask';

/** Longest DNS name (RFC 1035 §2.3.4): anything longer is no host of ours. */
const MAX_DOMAIN_CHARS = 253;

interface TlsPermissionOptions {
  /** The session domain (may carry a port); sessions are `<id>.<domain>`. */
  domain: string;
  /** Whether a session with this id exists now (live or in grace), here or on another node. */
  sessionExists(sessionId: string): Promise<boolean>;
  /** Whether an agent token holds this stable session name (sessions/session-names.ts). */
  nameClaimed(name: string): Promise<boolean>;
  /** Without it, no throttle: the asker's address (viewers/viewer-address.ts) and its allowance. */
  limit?: { sourceAddress(req: IncomingMessage): string; asks: TlsAskLimit };
}

type TlsPermissionAnswer = { allowed: true; reason: 'apex' | 'session' | 'name' } | { allowed: false; status: 400 | 404; error: string };

/** The handler of TLS_ASK_PATH. */
export function createTlsPermission(options: TlsPermissionOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const apex = hostnameOf(options.domain);
  const suffix = `.${apex}`;

  async function decide(domainParam: string | null): Promise<TlsPermissionAnswer> {
    if (domainParam === null || domainParam === '' || domainParam.length > MAX_DOMAIN_CHARS) return { allowed: false, status: 400, error: 'ERR_BAD_REQUEST' };
    const host = hostnameOf(domainParam);
    if (host === apex) return { allowed: true, reason: 'apex' };
    if (!host.endsWith(suffix)) return { allowed: false, status: 404, error: 'ERR_NOT_OUR_DOMAIN' };
    const label = host.slice(0, -suffix.length);
    if (!isSessionLabel(label)) return { allowed: false, status: 404, error: 'ERR_NO_SUCH_SESSION' };
    if (await options.sessionExists(label)) return { allowed: true, reason: 'session' };
    if (isSessionName(label) && (await options.nameClaimed(label))) return { allowed: true, reason: 'name' };
    return { allowed: false, status: 404, error: 'ERR_NO_SUCH_SESSION' };
  }

  return (req, res) => {
    const domain = new URL(req.url ?? '/', 'http://x').searchParams.get('domain');
    const reply = (status: number, body: object, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
    const { limit } = options;
    if (limit && !limit.asks.take(limit.sourceAddress(req)))
      return reply(429, { error: 'ERR_TOO_MANY', message: 'too many TLS permission checks from this address' }, { 'retry-after': '1' });
    decide(domain).then(
      (answer) => (answer.allowed ? reply(200, { ok: true, reason: answer.reason }) : reply(answer.status, { error: answer.error })),
      // A lookup that fails (Redis down) is a no: the terminator asks again on the next visit.
      () => reply(503, { error: 'ERR_UNAVAILABLE' }),
    );
  };
}
