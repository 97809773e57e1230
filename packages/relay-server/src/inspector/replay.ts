/**
 * Replay: a captured (or edited) request sent straight to the local app,
 * never through the tunnel, and captured like any exchange. The captured head
 * is the app's; the Host policy applies again, so an edited Host cannot take
 * the request elsewhere.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { headerListFromRaw, type HeaderList } from '@wingman/protocol';
import { createBodyTap, forwardedRequest, targetTlsOptions, type Capture, type HostHeaderMode, type Target } from '../forward';

interface ReplayRequest {
  method: string;
  /** Origin-form: starts with "/". */
  path: string;
  /** As the viewer sent them (the captured head), possibly edited. */
  headers: HeaderList;
  body: Buffer;
}

interface ReplayOptions {
  target: Target;
  hostHeader: HostHeaderMode;
  /** The whole exchange (head and body) must end within this, ms; then what came is kept and the request is cut. */
  timeoutMs: number;
  bodyLimitBytes: number;
}

/** Framing is recomputed from the body that is actually sent. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);

/**
 * The captured head (as the app received it) framed for the body sent now:
 * a Content-Length keeps its place with the body's length, so an unedited
 * replay reaches the app with the original's head; Transfer-Encoding goes.
 */
function withFraming(req: ReplayRequest): HeaderList {
  const length = String(req.body.length);
  const needed = req.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method);
  let placed = !needed;
  const out: HeaderList = [];
  for (const [name, value] of req.headers) {
    if (!FRAMING.has(name)) out.push([name, value]);
    else if (name === 'content-length' && !placed) {
      out.push([name, length]);
      placed = true;
    }
  }
  if (!placed) out.push(['content-length', length]);
  return out;
}

/** Never rejects: a failure is a capture with status 0 and an ERR_* code, as for a forwarded request. */
export function replayRequest(req: ReplayRequest, options: ReplayOptions): Promise<Capture> {
  const started = performance.now();
  const startedAt = Date.now();
  const responseBody = createBodyTap(options.bodyLimitBytes);
  const requestBody = createBodyTap(options.bodyLimitBytes);
  requestBody.push(req.body);
  let status = 0;
  let responseHeaders: HeaderList = [];

  const outgoing = forwardedRequest(
    withFraming(req),
    // X-Forwarded-* as captured: the replay stands for the original viewer's request.
    { target: options.target, hostHeader: options.hostHeader, transport: 'relay' },
  ).headers;

  return new Promise<Capture>((resolve) => {
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        method: req.method,
        target: req.path,
        // Stored as 'replay' by the caller; the forwarder's type needs a transport.
        transport: 'relay',
        startedAt,
        durationMs: Math.round(performance.now() - started),
        status,
        ...(error !== undefined ? { error } : {}),
        requestHeaders: req.headers,
        responseHeaders,
        requestBody: requestBody.result(),
        responseBody: responseBody.result(),
      });
    };
    const tls = targetTlsOptions(options.target);
    const r = (tls ? httpsRequest : httpRequest)({
      ...tls,
      // SNI for a host name, none for an address (RFC 6066 §3).
      ...(tls && isIP(options.target.host) === 0 ? { servername: options.target.host } : {}),
      host: options.target.host,
      port: options.target.port,
      method: req.method,
      path: req.path,
      headers: outgoing.flat(),
      agent: false,
      setHost: false,
    });
    const timer = setTimeout(() => {
      r.destroy();
      finish('ERR_UPSTREAM_TIMEOUT');
    }, options.timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) =>
      finish(status !== 0 ? 'ERR_UPSTREAM_ERROR' : err.code === 'ECONNREFUSED' ? 'ERR_UPSTREAM_UNREACHABLE' : 'ERR_UPSTREAM_ERROR'),
    );
    r.on('response', (res: IncomingMessage) => {
      status = res.statusCode ?? 0;
      responseHeaders = headerListFromRaw(res.rawHeaders);
      res.on('data', (chunk: Buffer) => responseBody.push(chunk));
      res.on('end', () => finish());
      res.on('error', () => finish('ERR_UPSTREAM_ERROR'));
      res.on('close', () => finish(res.complete ? undefined : 'ERR_UPSTREAM_ERROR'));
    });
    r.end(req.body);
  });
}
