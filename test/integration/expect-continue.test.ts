/**
 * `Expect: 100-continue` through the relay: a client (curl sends it for any
 * large upload; browsers never do) waits for `100 Continue` before it sends
 * its body. Straight on the app, the app sends it; through Wingman the
 * tunnel server's HTTP server does, and the agent sends the request on
 * without the expectation (the body is already on its way). Either way the
 * client gets its 100, sends the body after it, and the app answers with
 * the SHA-256 of every byte. Real processes: the tunnel server, the agent,
 * and the edge app (test/helpers/edge-app.ts), which answers an expectation
 * as RFC 9110 asks.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { patternBytes } from '../helpers/fixture-app';
import { startEdgeApp, type EdgeApp } from '../helpers/edge-app';
import { killAll, startTunnel } from '../helpers/processes';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(60_000);

/** A 100 and an answer come within milliseconds here; 10 s covers a loaded machine. */
const ANSWER_TIMEOUT_MS = 10_000;

interface ContinueOutcome {
  /** Whether a 100 Continue came before the client sent a byte of its body. */
  continued: boolean;
  status: number;
  body: string;
}

/** POSTs `body` to /upload with `Expect: 100-continue`, writing it only once the 100 came. */
function uploadExpectingContinue(port: number, host: string, body: Buffer): Promise<ContinueOutcome> {
  const answer = new Promise<ContinueOutcome>((resolve, reject) => {
    let continued = false;
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host, expect: '100-continue', 'content-length': String(body.length) } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      },
    );
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('error', reject);
  });
  return withTimeout(answer, { timeoutMs: ANSWER_TIMEOUT_MS, what: `the answer to an upload with Expect: 100-continue on port ${port}` });
}

let app: EdgeApp;

beforeAll(async () => {
  app = await startEdgeApp();
});

afterAll(async () => {
  await killAll();
  await app?.close();
});

it('a client that expects 100 Continue gets it through the relay, as straight from the app, and the app gets the whole body', async () => {
  const body = patternBytes(1_000_000);
  const sha = createHash('sha256').update(body).digest('hex');
  const whole: ContinueOutcome = { continued: true, status: 200, body: sha };

  expect(await uploadExpectingContinue(app.port, `127.0.0.1:${app.port}`, body)).toEqual(whole);

  const t = await startTunnel(String(app.port));
  expect(await uploadExpectingContinue(t.serverPort, t.host, body)).toEqual(whole);
});
