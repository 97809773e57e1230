import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createBrowserAssets } from '../../src/browser/assets';
import { isBootstrapNavigation } from '../../src/browser/bootstrap';
import { renderShell, serveShell, shellInlineScript, SHELL_INLINE_SCRIPT_FILE } from '../../src/browser/shell-html';

const nav = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

describe('isBootstrapNavigation', () => {
  it("is true only for a browser's own top-level GET navigation to an app path", () => {
    expect(isBootstrapNavigation({ method: 'GET', url: '/any/path?q', headers: nav })).toBe(true);
    expect(isBootstrapNavigation({ method: 'POST', url: '/', headers: nav })).toBe(false);
    expect(isBootstrapNavigation({ method: 'GET', url: '/', headers: { ...nav, 'sec-fetch-dest': 'iframe' } })).toBe(false);
    expect(isBootstrapNavigation({ method: 'GET', url: '/', headers: { ...nav, 'x-wingman-via': 'sw' } })).toBe(false);
    expect(isBootstrapNavigation({ method: 'GET', url: '/__wingman/client.js', headers: nav })).toBe(false);
    // curl and scripts send no Fetch Metadata.
    expect(isBootstrapNavigation({ method: 'GET', url: '/', headers: { accept: 'text/html' } })).toBe(false);
  });
});

describe('renderShell', () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), 'wingman-shell-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const inlineScript = (text: string) => {
    writeFileSync(join(dir, SHELL_INLINE_SCRIPT_FILE), text);
    return shellInlineScript(dir);
  };

  it('embeds the config as JSON that cannot close its <script>', () => {
    const html = renderShell({ sessionId: 'abc</script><script>alert(1)</script>', p2p: true }, inlineScript('window.x=1;\n'));
    const json = /<script type="application\/json" id="wingman-config">(.*)<\/script>/.exec(html)![1]!;
    expect(json).not.toContain('<');
    expect(JSON.parse(json)).toEqual({
      sessionId: 'abc</script><script>alert(1)</script>',
      p2p: true,
      exclude: [],
      badge: true,
      private: false,
    });
  });

  it('inlines the built script first in <head>, with the CSP hash of exactly that text', () => {
    const script = inlineScript('window.x=1;\n');
    const html = renderShell({ sessionId: 'abc', p2p: true }, script);
    const inlined = /<head>\s*<meta charset="utf-8">\s*<script>(.*?)<\/script>/s.exec(html)![1]!;
    expect(inlined).toBe('window.x=1;');
    expect(script.sha256).toBe(`sha256-${createHash('sha256').update(inlined).digest('base64')}`);
  });

  it('re-reads a rebuilt script, and refuses one that could close its <script> element', () => {
    const before = inlineScript('window.x=1;').sha256;
    writeFileSync(join(dir, SHELL_INLINE_SCRIPT_FILE), 'window.x=22;');
    expect(shellInlineScript(dir).sha256).not.toBe(before);
    expect(() => inlineScript('var s="</script>";')).toThrow(/cannot be inlined/);
    expect(() => inlineScript('var s="<!--";')).toThrow(/cannot be inlined/);
  });

  it("answers gzipped where the request accepts it (a first visit's shell fits the initial window), the same HTML either way", async () => {
    const script = 'window.x=1;'.repeat(1000);
    inlineScript(script);
    const server = createServer((req, res) => serveShell(req, res, { sessionId: 'abc', p2p: true }, dir));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const get = (acceptEncoding: string) =>
      new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const req = httpGet(
          { host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', headers: { 'accept-encoding': acceptEncoding } },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
          },
        );
        req.on('error', reject);
      });
    try {
      const plain = await get('identity');
      const zipped = await get('gzip, deflate, br');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(zipped.headers.vary).toBe('accept-encoding');
      expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
      expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
      expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
      expect(plain.body.toString()).toContain(script);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says how to build the script when it is missing, and the shell then answers 503 with that', async () => {
    expect(() => shellInlineScript(dir)).toThrow(/shell-inline\.js is not built: run `npm run build -w @wingman\/browser-client`/);
    const server = createServer((req, res) => serveShell(req, res, { sessionId: 'abc', p2p: true }, dir));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build -w @wingman\/browser-client/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('marks a P2P session on <html> (the inline script starts the P2P attempt only there), and only a P2P session', () => {
    const script = inlineScript('window.x=1;');
    expect(renderShell({ sessionId: 'abc', p2p: true }, script)).toContain('<html lang="en" data-wingman-p2p>');
    expect(renderShell({ sessionId: 'abc', p2p: false }, script)).toContain('<html lang="en">');
  });

  it('inlines the script browser-client built: it creates the app frame and loads client.js', () => {
    const built = shellInlineScript();
    expect(built.text).toContain('"wingman-frame"');
    expect(built.text).toContain('"/__wingman/client.js"');
    expect(renderShell({ sessionId: 'abc', p2p: true })).toContain(`<script>${built.text}</script>`);
  });
});

describe('createBrowserAssets', () => {
  let dir: string;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wingman-assets-'));
    writeFileSync(join(dir, 'sw.js'), 'self.x = 1;');
    writeFileSync(join(dir, 'client.js'), 'window.x = 1;');
    const serveAsset = createBrowserAssets(dir);
    server = createServer((req, res) => {
      if (!serveAsset(req, res)) res.writeHead(418).end('not mine');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  function get(
    path: string,
    headers: Record<string, string> = {},
    method = 'GET',
  ): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  function getRaw(path: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the Service Worker with Service-Worker-Allowed: / and no-cache', async () => {
    const r = await get('/__wingman/sw.js?v=1');
    expect(r.status).toBe(200);
    expect(r.body).toBe('self.x = 1;');
    expect(r.headers).toMatchObject({ 'content-type': 'text/javascript; charset=utf-8', 'service-worker-allowed': '/', 'cache-control': 'no-cache' });
  });

  it('answers a matching If-None-Match with 304, and HEAD without a body', async () => {
    const first = await get('/__wingman/client.js');
    expect(first.headers['service-worker-allowed']).toBeUndefined();
    expect((await get('/__wingman/client.js', { 'if-none-match': String(first.headers.etag) })).status).toBe(304);
    expect(await get('/__wingman/client.js', {}, 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it('sends the bundles gzipped to a browser that accepts gzip, with their own ETag', async () => {
    const plain = await get('/__wingman/sw.js');
    const r = await getRaw('/__wingman/sw.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(r.headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'accept-encoding', 'service-worker-allowed': '/' });
    expect(gunzipSync(r.body).toString()).toBe('self.x = 1;');
    expect(r.headers['content-length']).toBe(String(r.body.length));
    expect(r.headers.etag).not.toBe(plain.headers.etag);
    expect((await get('/__wingman/sw.js', { 'accept-encoding': 'gzip', 'if-none-match': String(r.headers.etag) })).status).toBe(304);
    expect((await get('/__wingman/sw.js', { 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-encoding']).toBeUndefined();
  });

  it('serves a rebuilt file without a restart', async () => {
    writeFileSync(join(dir, 'client.js'), 'window.x = 2; // rebuilt');
    expect((await get('/__wingman/client.js')).body).toBe('window.x = 2; // rebuilt');
  });

  it('says how to build a missing bundle (503), refuses other methods (405), and leaves other paths alone', async () => {
    expect(await get('/__wingman/shim.js')).toMatchObject({ status: 503, body: expect.stringContaining('npm run build -w @wingman/browser-client') });
    expect((await get('/__wingman/sw.js', {}, 'POST')).status).toBe(405);
    expect(await get('/__wingman/signal')).toMatchObject({ status: 418 });
    expect(await get('/app.js')).toMatchObject({ status: 418 });
  });
});
