import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createBrowserAssets, isBootstrapNavigation, renderShell, shellConfig } from '../../src/browser';

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
  it('embeds the config as JSON that cannot close its <script>, and loads the client script', () => {
    const html = renderShell({ sessionId: 'abc', p2p: true, exclude: ['/api/</script><script>alert(1)</script>'] });
    // client.js is loaded by the inline script (on a first visit once the Service Worker controls).
    expect(html).toContain('s.src="/__wingman/client.js"');
    // The frame is created by the inline script in <head> (it starts earlier than a parser-inserted one).
    expect(html).toContain('f.id="wingman-frame"');
    expect(html.indexOf('f.id="wingman-frame"')).toBeLessThan(html.indexOf('</head>'));
    const json = /<script type="application\/json" id="wingman-config">(.*)<\/script>/.exec(html)![1]!;
    expect(json).not.toContain('<');
    expect(JSON.parse(json)).toEqual({ sessionId: 'abc', p2p: true, exclude: ['/api/</script><script>alert(1)</script>'], badge: true });
  });

  it('marks a P2P session on <html> (the inline script starts the P2P attempt only there), and only a P2P session', () => {
    expect(renderShell({ sessionId: 'abc', p2p: true })).toContain('<html lang="en" data-wingman-p2p>');
    expect(renderShell({ sessionId: 'abc', p2p: false })).toContain('<html lang="en">');
    // The same inline script in both (one CSP hash): it reads the attribute.
    const script = (html: string) => /<script>(.*?)<\/script>/s.exec(html)![1];
    expect(script(renderShell({ sessionId: 'abc', p2p: false }))).toBe(script(renderShell({ sessionId: 'abc', p2p: true })));
  });

  it('refuses options that are not what a tunnel server can mean (a bug on its side)', () => {
    expect(() => shellConfig({ sessionId: 'Bad Id', p2p: true })).toThrow(TypeError);
    expect(() => shellConfig({ sessionId: 'abc', p2p: true, exclude: ['relative'] })).toThrow(TypeError);
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
    const assets = createBrowserAssets({ distDir: dir });
    server = createServer((req, res) => {
      if (!assets.handle(req, res)) res.writeHead(418).end('not mine');
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
