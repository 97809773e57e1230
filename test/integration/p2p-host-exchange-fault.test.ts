/**
 * An exception while the agent's P2P host serves one exchange fails that
 * exchange, and the host process serves the next request over the same
 * channel. Nothing in an app's response is known to throw any more, so the
 * faults are injected: a module loaded into the P2P host process only
 * (NODE_OPTIONS=--require, FAULTS below; the product has no hook for it)
 * makes
 * - the HTTP client's socket listener throw on a response that carries a
 *   marker header (an AssertionError, as undici's own assertions throw);
 * - the forwarder's request-body listener (a protocol stream listener, which
 *   starts the request to the app) throw for a request with a marker header.
 * Before, either ended the process and every viewer's channel with it. Real
 * processes: the tunnel server, the agent and its host; the Node P2P viewer
 * (@roamhq/wrtc) runs in a child process of its own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLines, runNodeScript } from '../helpers/node-script';
import { killAll, p2pHostEndings, ROOT, startTunnel } from '../helpers/processes';

jest.setTimeout(60_000);

const HTTP_CLIENT_MARKER = 'FAULT-IN-HTTP-CLIENT';
const LISTENER_TARGET = '/fault-in-listener';

/** Loaded into every process of the agent; acts in the P2P host process only. */
const FAULTS = `
if (process.argv[1] && process.argv[1].endsWith('host-process.js')) {
  const assert = require('node:assert');
  const net = require('node:net');
  const read = net.Socket.prototype.read;
  net.Socket.prototype.read = function (size) {
    const chunk = read.call(this, size);
    if (chunk && chunk.includes(${JSON.stringify(HTTP_CLIENT_MARKER)})) throw new assert.AssertionError({ message: 'injected fault in the HTTP client' });
    return chunk;
  };
  // The host process is one bundled file (scripts/bundle-bins.mjs): the fault goes into the forwarder's
  // forwardedRequest as the file is compiled, at the top of its body.
  const Module = require('node:module');
  const compile = Module.prototype._compile;
  const entry = 'function forwardedRequest(headers, options) {';
  Module.prototype._compile = function (content, filename) {
    if (filename === process.argv[1]) {
      const at = content.indexOf(entry);
      if (at < 0 || content.includes(entry, at + 1)) throw new Error('faults.js: no single forwardedRequest in ' + filename);
      content = content.replace(entry, entry + " if (headers.some(([n, v]) => n === 'x-fault' && v === 'listener')) throw new Error('injected fault in a stream listener');");
    }
    return compile.call(this, content, filename);
  };
}
`;

/** One viewer (its own process) asks for each target in turn over one channel; one JSON line per request. */
const VIEWER_SCRIPT = `
const { connectP2PViewer } = require(${JSON.stringify(join(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js'))});
const { requestOver } = require(${JSON.stringify(join(ROOT, 'packages/relay-server/dist/viewer/request.js'))});
const [url, host, ...targets] = process.argv.slice(1);
(async () => {
  const viewer = await connectP2PViewer({ url, timeoutMs: 20000 });
  for (const target of targets) {
    const headers = [['host', host]];
    if (target === ${JSON.stringify(LISTENER_TARGET)}) headers.push(['x-fault', 'listener']);
    try {
      const r = await requestOver(viewer.connection, { method: 'GET', target, headers });
      const body = (await r.bytes()).toString();
      console.log(JSON.stringify({ target, status: r.status, transport: r.header('x-wingman-transport'), body }));
    } catch (err) {
      console.log(JSON.stringify({ target, code: err.code, error: err.message }));
    }
  }
  viewer.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(2); });
`;

let dir: string;
let app: Server;
let appPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-faults-'));
  writeFileSync(join(dir, 'faults.js'), FAULTS);
  app = createServer((req, res) => {
    if (req.url === '/fault-in-http-client') res.setHeader('x-marker', HTTP_CLIENT_MARKER);
    res.setHeader('content-type', 'text/plain');
    res.end(req.url === '/hello' ? 'hello' : 'answered');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appPort = (app.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => killAll());

describe('a fault while the P2P host serves one exchange', () => {
  it('fails that exchange with the fault named, and the host serves the next request over the same channel', async () => {
    const t = await startTunnel(String(appPort), { agentEnv: { NODE_OPTIONS: `--require ${join(dir, 'faults.js')}` } });
    const run = await runNodeScript(VIEWER_SCRIPT, {
      cwd: ROOT,
      args: [t.url, t.host, '/fault-in-http-client', '/hello', LISTENER_TARGET, '/hello'],
      timeoutMs: 40_000,
    });
    const answers = jsonLines(run.stdout);
    const hello = { target: '/hello', status: 200, transport: 'p2p', body: 'hello' };

    expect(p2pHostEndings(t.agent)).toEqual([]);
    expect({ code: run.code, signal: run.signal, stderr: run.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(answers).toEqual([
      // Before the head: a 502 page that names the failure.
      {
        target: '/fault-in-http-client',
        status: 502,
        transport: 'p2p',
        body: expect.stringContaining('HTTP client failed on this connection (injected fault in the HTTP client)'),
      },
      hello,
      // The request was never sent: the stream is reset with the error.
      { target: LISTENER_TARGET, code: 'ERR_INTERNAL', error: expect.stringContaining('agent error: injected fault in a stream listener') },
      hello,
    ]);
    // Each fault's stack is on the agent's stderr (the host's is inherited).
    expect(t.agent.stderr()).toContain('injected fault in the HTTP client');
    expect(t.agent.stderr()).toContain('injected fault in a stream listener');
  });
});
