/**
 * The on-demand TLS permission check (docs/operations.md §On-demand TLS permission): a terminator that issues
 * certificates on first use asks `GET <TLS_ASK_PATH>?domain=<host>` and issues only on a 200: for the apex, a session
 * this server (or cluster) knows, or a stable name a token holds; 404 otherwise, so a scanner cannot spend the CA's
 * rate limits. Apex host only.
 *
 * Asks are throttled per address: a token bucket per source (sourceKey) of TLS_ASK_BURST, refilled at
 * TLS_ASK_PER_SECOND; unthrottled, one could probe ~4 400 names a second and learn which stable names are held.
 * Loopback (the TLS terminator, asking for every visitor) is not counted. Buckets that refilled are forgotten, least
 * recently used first; past MAX_TLS_ASK_SOURCES the rest share one bucket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSessionLabel, isSessionName } from '@wingman/protocol';
import { isLoopbackHost } from '../config';
import { hostnameOf } from '../http/host-route';
import { sendJson } from '../http/json-response';
import { OVERFLOW_SOURCE, sourceKey } from '../http/source-key';
import { createTokenBucket, type TokenBucket } from '../http/token-bucket';

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
  /** The asker's address (viewers/viewer-address.ts), what asks are throttled by. */
  sourceAddress(req: IncomingMessage): string;
}

/** Asks one address may send at once: a terminator on another host starting with a batch of new sessions. */
export const TLS_ASK_BURST = 64;
/** Asks per second refilled per address: far above new sessions a second, far below a probe's thousands. */
export const TLS_ASK_PER_SECOND = 16;
/** Addresses with a bucket at once (a bucket is ~100 bytes: well under 1 MiB). */
export const MAX_TLS_ASK_SOURCES = 4_096;

export function createTlsAskLimit(now: () => number = Date.now) {
  // In order of last use: the first entries are the least recently used.
  const buckets = new Map<string, TokenBucket>();
  /** Takes one ask for `address`; false when it must wait (429). */
  return (address: string): boolean => {
    // 127.0.0.0/8 and ::1, IPv4-mapped or not.
    if (isLoopbackHost(address.replace(/^::ffff:/i, ''))) return true;
    for (const [key, b] of buckets) {
      if (!b.full()) break;
      buckets.delete(key);
    }
    let key = sourceKey(address);
    if (!buckets.has(key) && buckets.size >= MAX_TLS_ASK_SOURCES) key = OVERFLOW_SOURCE;
    const b = buckets.get(key) ?? createTokenBucket(TLS_ASK_BURST, TLS_ASK_PER_SECOND, now);
    buckets.delete(key);
    buckets.set(key, b);
    return b.take();
  };
}

/** The handler of TLS_ASK_PATH. */
export function createTlsPermission(options: TlsPermissionOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const apex = hostnameOf(options.domain);
  const suffix = `.${apex}`;
  const mayAsk = createTlsAskLimit();

  /** The status and body of the answer for `domainParam`. */
  async function decide(domainParam: string | null): Promise<[number, object]> {
    if (domainParam === null || domainParam === '' || domainParam.length > MAX_DOMAIN_CHARS) return [400, { error: 'ERR_BAD_REQUEST' }];
    const host = hostnameOf(domainParam);
    if (host === apex) return [200, { ok: true, reason: 'apex' }];
    if (!host.endsWith(suffix)) return [404, { error: 'ERR_NOT_OUR_DOMAIN' }];
    const label = host.slice(0, -suffix.length);
    if (!isSessionLabel(label)) return [404, { error: 'ERR_NO_SUCH_SESSION' }];
    if (await options.sessionExists(label)) return [200, { ok: true, reason: 'session' }];
    if (isSessionName(label) && (await options.nameClaimed(label))) return [200, { ok: true, reason: 'name' }];
    return [404, { error: 'ERR_NO_SUCH_SESSION' }];
  }

  return (req, res) => {
    const domain = new URL(req.url ?? '/', 'http://x').searchParams.get('domain');
    if (!mayAsk(options.sourceAddress(req)))
      return sendJson(res, 429, { error: 'ERR_TOO_MANY', message: 'too many TLS permission checks from this address' }, { 'retry-after': '1' });
    decide(domain).then(
      ([status, body]) => sendJson(res, status, body),
      // A lookup that fails (Redis down) is a no: the terminator asks again on the next visit.
      () => sendJson(res, 503, { error: 'ERR_UNAVAILABLE' }),
    );
  };
}
