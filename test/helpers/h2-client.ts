/**
 * One HTTP/2 request on a session, for the tests of the server's HTTP/2
 * listener: it never rejects; a stream error comes back as `error` (its code)
 * with what arrived before it, and a stream that does not end within
 * `timeoutMs` is closed (and ends with what it had).
 */
import type { ClientHttp2Session, IncomingHttpHeaders, IncomingHttpStatusHeader } from 'node:http2';

export interface H2Reply {
  /** 0 when no head arrived. */
  status: number;
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  body: string;
  /** The stream's error code, when it failed. */
  error?: string;
}

export function h2Exchange(
  session: ClientHttp2Session,
  authority: string,
  path: string,
  options: { method?: string; body?: string; timeoutMs: number },
): Promise<H2Reply> {
  return new Promise((resolve) => {
    const stream = session.request({ ':authority': authority, ':path': path, ':method': options.method ?? 'GET' });
    const timer = setTimeout(() => stream.close(), options.timeoutMs);
    let headers: H2Reply['headers'] = {};
    let body = '';
    const reply = () => ({ status: Number(headers[':status'] ?? 0), headers, body });
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve(reply());
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ...reply(), error: err.code ?? err.message });
    });
    stream.end(options.body);
  });
}
