/**
 * The nginx example of docs/deploy.md (§4), as a user copies it: nginx
 * accepts it (`nginx -t`, Debian's nginx), with only its certificate paths
 * pointed at a certificate made here, inside the `http` block of a minimal
 * main configuration; and it serves a browser's connection for more requests
 * than its default of 1000, which a few reloads of a module-heavy dev server
 * reach (Chromium fails the requests it holds back when a connection closes
 * mid-load).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes';
import { createTestCa, type TestCa } from '../helpers/test-ca';

jest.setTimeout(30_000);

const NGINX = '/usr/sbin/nginx';
/** Requests a connection must carry at least: several loads of a ~330-module app. */
const MIN_REQUESTS_PER_CONNECTION = 100_000;

/** The doc's one ```nginx block. */
function nginxBlock(): string {
  const doc = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
  const blocks = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

let ca: TestCa;
let dir: string;

beforeAll(() => {
  ca = createTestCa({ name: 'Wingman deploy nginx test CA' });
  dir = mkdtempSync(join(tmpdir(), 'wingman-deploy-nginx-'));
});

afterAll(() => {
  ca?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("docs/deploy.md's nginx example", () => {
  it('is accepted by nginx as written, certificate paths aside', async () => {
    const { certFile, keyFile } = ca.issue('tunnel', { serialHex: '0a', altNames: ['DNS:tunnel.example.com', 'DNS:*.tunnel.example.com'] });
    const server = nginxBlock()
      .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${certFile};`)
      .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${keyFile};`);
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', sub), { recursive: true });
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      [
        `pid ${join(dir, 'nginx.pid')};`,
        'error_log stderr warn;',
        'events {}',
        'http {',
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((s) => `${s === 'body' ? 'client_body' : s}_temp_path ${join(dir, 'tmp', s)};`),
        server,
        '}',
      ].join('\n'),
    );
    const out = await new Promise<{ code: number; stderr: string }>((resolve, reject) =>
      execFile(NGINX, ['-t', '-p', dir, '-c', conf, '-e', 'stderr'], (err, _stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${NGINX} is missing: apt-get install nginx`));
        resolve({ code: err ? Number(err.code ?? 1) : 0, stderr });
      }),
    );
    expect(out).toMatchObject({ code: 0, stderr: expect.stringContaining('test is successful') });
  });

  it(`lets one browser connection carry at least ${MIN_REQUESTS_PER_CONNECTION} requests`, () => {
    const value = /^\s*keepalive_requests\s+(\d+);/m.exec(nginxBlock())?.[1];
    expect(Number(value)).toBeGreaterThanOrEqual(MIN_REQUESTS_PER_CONNECTION);
  });
});
