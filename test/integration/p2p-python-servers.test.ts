/**
 * Python's development servers answer HTTP/1.0-style: `python3 -m
 * http.server` sends a Content-Length and closes the connection after each
 * response; a WSGI app under `wsgiref.simple_server` without a
 * Content-Length sends a body that ends when the connection does. The P2P
 * host's forwarder pauses its reads from the app while a viewer's channel
 * is full, so such a connection often ends while the response is paused.
 * Several concurrent downloads of a multi-MB file over P2P must all arrive
 * whole (SHA-256 equal to a direct download), and the P2P host process must
 * never end. Real processes: Debian's Python, the tunnel server, the agent;
 * the Node P2P viewer (@roamhq/wrtc) runs in a child process of its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonLines, runNodeScript } from '../helpers/node-script';
import { killAll, p2pHostEndings, ROOT, startCommand, startTunnel, type Proc, type Tunnel } from '../helpers/processes';

jest.setTimeout(90_000);

const PYTHON = '/usr/bin/python3';
/** 3 MB: a page's large asset. The host process died on about one download of it in three. */
const FILE_BYTES = 3_000_000;
/** Downloads one after the other, then at once over the viewer's channel, and how many such rounds. */
const SEQUENTIAL = 4;
const CONCURRENT = 3;
const ROUNDS = 3;

/** A WSGI app serving the file in 64 KiB pieces with no Content-Length: wsgiref then ends the body by closing. */
const WSGI_APP = `
import sys
from wsgiref.simple_server import make_server, WSGIRequestHandler
path = sys.argv[1]
class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    def pieces():
        with open(path, 'rb') as f:
            while True:
                piece = f.read(65536)
                if not piece:
                    return
                yield piece
    return pieces()
server = make_server('127.0.0.1', 0, app, handler_class=Quiet)
print('listening on port %d' % server.server_port, flush=True)
server.serve_forever()
`;

/**
 * One P2P viewer (its own process) downloads `target` SEQUENTIAL times one
 * after the other, then CONCURRENT times at once, ROUNDS times; one JSON
 * line per download.
 */
const VIEWER_SCRIPT = `
const { createHash } = require('node:crypto');
const { connectP2PViewer } = require(${JSON.stringify(join(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js'))});
const { requestOver } = require(${JSON.stringify(join(ROOT, 'packages/relay-server/dist/viewer/request.js'))});
const [url, host, target, sequential, concurrent, rounds] = process.argv.slice(1);
(async () => {
  const viewer = await connectP2PViewer({ url, timeoutMs: 20000 });
  const download = async (conn) => {
    try {
      const r = await requestOver(conn, { method: 'GET', target, headers: [['host', host]] });
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of r.chunks()) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return { status: r.status, transport: r.header('x-wingman-transport'), bytes, sha256: hash.digest('hex') };
    } catch (err) {
      return { error: String(err && err.message ? err.message : err) };
    }
  };
  for (let i = 0; i < Number(sequential); i++) console.log(JSON.stringify(await download(viewer.connection)));
  for (let round = 0; round < Number(rounds); round++) {
    const all = [];
    for (let i = 0; i < Number(concurrent); i++) all.push(download(viewer.connection));
    for (const r of await Promise.all(all)) console.log(JSON.stringify(r));
  }
  viewer.close();
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(2); });
`;

let dir: string;
let fileSha: string;
let t: Tunnel | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wingman-python-'));
  const file = randomBytes(FILE_BYTES);
  writeFileSync(join(dir, 'big.bin'), file);
  fileSha = createHash('sha256').update(file).digest('hex');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(async () => {
  await killAll();
  t = undefined;
});

/** The app's own answer for `path`, fetched straight from it (no tunnel). */
function directSha(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      const hash = createHash('sha256');
      res.on('data', (d: Buffer) => hash.update(d));
      res.on('end', () => resolve(hash.digest('hex')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function startPython(args: string[]): Promise<{ app: Proc; port: number }> {
  const app = startCommand(PYTHON, ['-u', ...args]);
  const line = await app.waitForLine(/port (\d+)/, { timeoutMs: 10_000, stream: 'both' });
  return { app, port: Number(/port (\d+)/.exec(line)![1]) };
}

/** Runs the viewer against the tunnel to `port`; checks every download and that the agent's P2P host lived through them. */
async function downloadsOverP2P(port: number, target: string): Promise<void> {
  t = await startTunnel(String(port));
  const direct = await directSha(port, target);
  expect(direct).toBe(fileSha);

  const run = await runNodeScript(VIEWER_SCRIPT, {
    cwd: ROOT,
    args: [t.url, t.host, target, String(SEQUENTIAL), String(CONCURRENT), String(ROUNDS)],
    timeoutMs: 60_000,
  });
  const downloads = jsonLines(run.stdout);
  const whole = { status: 200, transport: 'p2p', bytes: FILE_BYTES, sha256: direct };

  expect(p2pHostEndings(t.agent)).toEqual([]);
  // Nor did the HTTP client fail on a connection (upstream-socket.ts would have taken its assertion).
  expect(t.agent.stderr()).not.toContain('ERR_ASSERTION');
  expect({ code: run.code, signal: run.signal, stderr: run.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(downloads).toEqual(Array.from({ length: SEQUENTIAL + CONCURRENT * ROUNDS }, () => whole));
}

describe('P2P downloads from Python development servers', () => {
  it('python3 -m http.server (HTTP/1.0, Content-Length, closes after each response): every download whole, the host lives', async () => {
    const { port } = await startPython(['-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir]);
    await downloadsOverP2P(port, '/big.bin');
  });

  it('wsgiref.simple_server (HTTP/1.0, a body that ends with the connection): every download whole, the host lives', async () => {
    const { port } = await startPython(['-c', WSGI_APP, join(dir, 'big.bin')]);
    await downloadsOverP2P(port, '/big.bin');
  });
});
