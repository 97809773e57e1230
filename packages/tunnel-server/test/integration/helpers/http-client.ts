/** Node http requests to 127.0.0.1 with an explicit Host header (never any other address). */
import { request, type IncomingHttpHeaders } from 'node:http';
import { until } from '../../../../../test/helpers/wait';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
  timeoutMs?: number;
}

export function send(port: number, host: string, options: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: { host, ...options.headers }, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no complete reply within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(options.body);
  });
}

/** Polls `fn` until it returns a truthy value, for about `tries` × `intervalMs` (until() from test/helpers/wait). */
export async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, what: string, tries = 100, intervalMs = 20): Promise<T> {
  return until(fn, { timeoutMs: tries * intervalMs, intervalMs, what });
}
