/** HTTP requests to a session through the tunnel server on 127.0.0.1, with the session's Host header. */
import { createHash } from 'node:crypto';
import { Agent, request, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export function send(
  port: number,
  host: string,
  opts: {
    method?: string;
    path: string;
    body?: Buffer | ((write: (b: Buffer) => Promise<void>) => Promise<void>);
    headers?: Record<string, string>;
    agent?: Agent;
    /** Source address (a loopback one: 127.0.0.2…), as a different viewer would come from. */
    localAddress?: string;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: { host, ...opts.headers },
        agent: opts.agent,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = opts.body;
    if (typeof body === 'function') {
      const write = (b: Buffer) => new Promise<void>((r) => (req.write(b) ? r() : req.once('drain', () => r())));
      body(write).then(() => req.end(), reject);
    } else {
      req.end(body);
    }
  });
}

/** Streams a response and hashes it without keeping it. */
export function download(
  port: number,
  host: string,
  path: string,
  onChunk?: (n: number) => Promise<void> | void,
): Promise<{ status: number; headers: IncomingMessage['headers']; sha: string; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      const h = createHash('sha256');
      let length = 0;
      res.on('data', (c: Buffer) => {
        h.update(c);
        length += c.length;
        const p = onChunk?.(c.length);
        if (p) {
          res.pause();
          void p.then(() => res.resume());
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, sha: h.digest('hex'), length }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The tunnel server's /metrics text over its own TLS, trusting `caPem`. */
function metricsOverTls(serverPort: number, caPem: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      { host: '127.0.0.1', port: serverPort, path: '/metrics', servername: 'localhost', headers: { host: `localhost:${serverPort}` }, ca: caPem },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

/**
 * Sum of a metric's samples in the tunnel server's Prometheus text (all label
 * sets, or those matching `labels`); `tlsCa`: the server speaks TLS, signed by this CA.
 */
export async function metricSum(serverPort: number, name: string, labels = '', tlsCa?: Buffer | string): Promise<number> {
  const text =
    tlsCa !== undefined ? await metricsOverTls(serverPort, tlsCa) : (await send(serverPort, `localhost:${serverPort}`, { path: '/metrics' })).body.toString();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
