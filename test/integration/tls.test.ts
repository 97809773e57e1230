/**
 * wingman-server's own TLS (--tls-cert / --tls-key): HTTPS and WSS without a
 * reverse proxy, an agent that trusts the server's CA through
 * NODE_EXTRA_CA_CERTS, and certificate renewal on disk picked up for new
 * connections while open ones (the agent's WebSocket, a viewer's keep-alive
 * connection) carry on. Certificates from a throwaway CA made with openssl.
 */
import { copyFileSync, mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, SERVER_BIN, startAgent, startProcess, startServer } from '../helpers/processes';
import { createTestCa, type TestCa } from '../helpers/test-ca';
import { until } from '../helpers/wait';

jest.setTimeout(60_000);

/**
 * Polls for a renewed certificate (the server's "reloaded" line is at info
 * level, below the tests' LOG_LEVEL): every 100 ms for at most 10 s (the
 * server re-reads 200 ms after the last change).
 */
const POLL_INTERVAL_MS = 100;
const RENEWAL_TIMEOUT_MS = 10_000;

const ALT_NAMES = ['DNS:localhost', 'DNS:*.localhost', 'IP:127.0.0.1'];
let ca: TestCa;
let first: { certFile: string; keyFile: string };
let second: { certFile: string; keyFile: string };
let app: FixtureApp;
/** The files the server is given: replaced in place to renew. */
let liveCert: string;
let liveKey: string;

beforeAll(() => {
  ca = createTestCa();
  first = ca.issue('first', { serialHex: '1001', altNames: ALT_NAMES });
  second = ca.issue('second', { serialHex: '2002', altNames: ALT_NAMES });
});

afterAll(() => ca?.remove());

beforeEach(async () => {
  app = await startFixtureApp();
  liveCert = join(ca.dir, 'live-cert.pem');
  liveKey = join(ca.dir, 'live-key.pem');
  copyFileSync(first.certFile, liveCert);
  copyFileSync(first.keyFile, liveKey);
});

afterEach(async () => {
  await killAll();
  await app.close();
});

/** Renews as certbot & co. do: the new file is written aside, then renamed over the old one. */
function replace(from: string, to: string): void {
  copyFileSync(from, `${to}.new`);
  renameSync(`${to}.new`, to);
}

interface HttpsReply {
  status: number;
  body: string;
  transport: string | undefined;
  serial: string;
  socket: TLSSocket;
}

/** GET over https to 127.0.0.1, verifying the certificate as `localhost` against the test CA; Host names the session. */
function get(port: number, host: string, path: string, agent?: Agent): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, servername: 'localhost', ca: ca.caPem, headers: { host }, agent: agent ?? false }, (res) => {
      // Read now: a keep-alive agent takes the socket back at the end of the response.
      const socket = res.socket as TLSSocket;
      const serial = socket.getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, transport: res.headers['x-wingman-transport'] as string | undefined, serial, socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startTlsTunnel() {
  const { server, port, url: serverUrl } = await startServer({ LOG_LEVEL: 'info' }, ['--tls-cert', liveCert, '--tls-key', liveKey]);
  const { agent, url } = await startAgent(serverUrl, String(app.port), { NODE_EXTRA_CA_CERTS: ca.caFile });
  return { server, port, serverUrl, agent, url, host: new URL(url).host };
}

async function waitForSerial(port: number, host: string, serial: string): Promise<HttpsReply> {
  let last: HttpsReply | undefined;
  return until(
    async () => {
      last = await get(port, host, '/hello');
      return last.serial === serial ? last : undefined;
    },
    {
      timeoutMs: RENEWAL_TIMEOUT_MS,
      intervalMs: POLL_INTERVAL_MS,
      what: `new connections to get certificate ${serial}`,
      observe: () => `certificate ${last?.serial}`,
    },
  );
}

describe('wingman-server with --tls-cert and --tls-key', () => {
  it('serves https with https session links; an agent trusting the CA registers over wss and viewers fetch through the relay', async () => {
    const t = await startTlsTunnel();
    expect(t.serverUrl).toBe(`https://localhost:${t.port}`);
    expect(t.url).toMatch(new RegExp(`^https://[a-z0-9]{26}\\.localhost:${t.port}/$`));
    const r = await get(t.port, t.host, '/hello');
    expect(r).toMatchObject({ status: 200, body: 'hello GET', transport: 'relay', serial: '1001' });
  });

  it('gives new connections a renewed certificate while the agent and open viewer connections carry on', async () => {
    const t = await startTlsTunnel();
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.caPem, servername: 'localhost' });
    try {
      const before = await get(t.port, t.host, '/hello', keepAlive);
      expect(before.serial).toBe('1001');

      replace(second.keyFile, liveKey);
      replace(second.certFile, liveCert);
      const renewed = await waitForSerial(t.port, t.host, '2002');
      expect(renewed).toMatchObject({ status: 200, body: 'hello GET' });

      // The viewer's open connection still answers, with the certificate it was opened with.
      const again = await get(t.port, t.host, '/hello', keepAlive);
      expect(again.socket).toBe(before.socket);
      expect(again).toMatchObject({ status: 200, body: 'hello GET', serial: '1001' });
      // The agent's WebSocket was never dropped.
      expect(t.agent.events.filter((e) => e.event === 'reconnecting' || e.event === 'disconnected')).toEqual([]);
    } finally {
      keepAlive.destroy();
    }
  });

  it('gives new connections the renewed certificate of a Kubernetes secret volume, whose files change by a swap of its ..data symlink', async () => {
    // The layout kubelet writes: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/ holding the files.
    const secret = join(ca.dir, `secret-${Date.now()}`);
    const version = (name: string, pair: { certFile: string; keyFile: string }) => {
      mkdirSync(join(secret, name), { recursive: true });
      copyFileSync(pair.certFile, join(secret, name, 'tls.crt'));
      copyFileSync(pair.keyFile, join(secret, name, 'tls.key'));
    };
    version('..2030_01_01_00_00_00.1', first);
    symlinkSync('..2030_01_01_00_00_00.1', join(secret, '..data'));
    symlinkSync(join('..data', 'tls.crt'), join(secret, 'tls.crt'));
    symlinkSync(join('..data', 'tls.key'), join(secret, 'tls.key'));
    const { port, url: serverUrl } = await startServer({ LOG_LEVEL: 'info' }, ['--tls-cert', join(secret, 'tls.crt'), '--tls-key', join(secret, 'tls.key')]);
    const { url } = await startAgent(serverUrl, String(app.port), { NODE_EXTRA_CA_CERTS: ca.caFile });
    const host = new URL(url).host;
    expect((await get(port, host, '/hello')).serial).toBe('1001');
    // kubelet's update: the new version aside, a new ..data link renamed over the old one (tls.crt itself never changes).
    version('..2030_01_02_00_00_00.2', second);
    symlinkSync('..2030_01_02_00_00_00.2', join(secret, '..data_tmp'));
    renameSync(join(secret, '..data_tmp'), join(secret, '..data'));
    expect((await waitForSerial(port, host, '2002')).body).toBe('hello GET');
  });

  it('keeps the previous certificate while the files on disk do not belong together, and takes the pair once they do', async () => {
    const t = await startTlsTunnel();
    replace(second.certFile, liveCert); // the key is still the first one: a half-done renewal
    await t.server.waitForLine((line) => line.includes('do not load'), { stream: 'stderr', timeoutMs: RENEWAL_TIMEOUT_MS });
    expect(t.server.stderr()).toContain('TLS files changed but do not load; still serving the previous certificate');
    expect((await get(t.port, t.host, '/hello')).serial).toBe('1001');

    replace(second.keyFile, liveKey);
    expect((await waitForSerial(t.port, t.host, '2002')).body).toBe('hello GET');
  });

  it('refuses to start, naming the problem, on an unreadable file, a key that does not match, or a certificate without a key', async () => {
    const cases: Array<{ args: string[]; says: string }> = [
      {
        args: ['--tls-cert', join(ca.dir, 'missing.pem'), '--tls-key', first.keyFile],
        says: `--tls-cert / TLS_CERT_FILE: cannot read ${join(ca.dir, 'missing.pem')}: ENOENT`,
      },
      { args: ['--tls-cert', first.certFile, '--tls-key', second.keyFile], says: 'do not load as a PEM certificate and its private key' },
      { args: ['--tls-cert', first.certFile], says: '--tls-cert / TLS_CERT_FILE: a TLS certificate and its key go together: give both or neither' },
    ];
    for (const c of cases) {
      const p = startProcess(SERVER_BIN, ['--port', '0', ...c.args]);
      const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
      expect({ code, stderr: p.stderr() }).toEqual({ code: 2, stderr: expect.stringContaining(c.says) });
    }
  });
});
