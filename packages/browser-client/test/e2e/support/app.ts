/**
 * The developer's app behind the tunnel in browser tests: a real express +
 * ws server on 127.0.0.1 (port 0) with one route per behaviour under test —
 * a multi-page site, JSON, deterministic bulk bytes, upload hashing, SSE, a
 * hanging request, redirects, a WebSocket echo, and a cookie login with a
 * tiny session middleware of its own (HttpOnly session cookie + a script-
 * visible one), which also guards a WebSocket (/ws-auth).
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WebSocketServer } from 'ws';
// Deterministic bulk bytes, shared with the system tests' fixture app.
import { patternBlock, patternSha256, writePattern } from '../../../../../test/helpers/fixture-app';
import { waitForEntry } from '../../../../../test/helpers/wait';

export { patternBlock, patternSha256 };

/** A page of the multi-page site: links to the others, a script that records how it loaded. */
function page(name: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Page ${name}</title></head>
<body><h1 id="name">${name}</h1>
<a id="to-one" href="/one">one</a> <a id="to-two" href="/two?x=1">two</a> <a id="to-three" href="/nested/three#frag">three</a>
<script>window.pageName = ${JSON.stringify(name)}; window.wsIsShim = !/\\[native code\\]/.test(String(WebSocket));</script>
</body></html>`;
}

export interface AppRequest {
  method: string;
  path: string;
  cookie: string | undefined;
  range: string | undefined;
}

/** A request the app holds before it reads or answers it (FixtureApp.hold). */
export interface HeldRequest {
  /** Resolves when the request reached the app. */
  readonly reached: Promise<void>;
  /** True from the moment the request reached the app until it is answered. */
  readonly holding: boolean;
  /** Lets the app answer it. */
  release(): void;
}

export interface FixtureApp {
  port: number;
  /** Holds the next `method` (default GET) request of `path` (path and query), unread and unanswered, until released, at most `maxMs`. */
  hold(path: string, maxMs: number, method?: string): HeldRequest;
  /** Every request the app saw, in order. */
  requests: AppRequest[];
  /** Paths whose response was cut off (the client went away). */
  aborted: string[];
  /** Resolves once the response to `path` was cut off (now or earlier), within `timeoutMs`. */
  waitForAborted(path: string, timeoutMs: number): Promise<string>;
  /** Ends every held SSE stream with a second event. */
  releaseSse(): void;
  close(): Promise<void>;
}

export async function startApp(): Promise<FixtureApp> {
  const requests: AppRequest[] = [];
  const aborted: string[] = [];
  /** Emits 'aborted' (the path) as each entry of `aborted` is added. */
  const events = new EventEmitter();
  const sessions = new Map<string, string>();
  const held: Array<() => void> = [];
  const holds = new Map<string, (next: () => void) => void>();
  const app = express();

  app.use((req, res, next) => {
    requests.push({ method: req.method, path: req.originalUrl, cookie: req.headers.cookie, range: req.headers.range });
    res.on('close', () => {
      if (res.writableFinished) return;
      aborted.push(req.path);
      events.emit('aborted', req.path);
    });
    const key = `${req.method} ${req.originalUrl}`;
    const hold = holds.get(key);
    if (!hold) return next();
    holds.delete(key);
    hold(next);
  });
  const sessionUser = (req: { headers: { cookie?: string | undefined } }): string | undefined => {
    const m = /(?:^|;\s*)sid=([0-9a-f]+)/.exec(req.headers.cookie ?? '');
    return m ? sessions.get(m[1]!) : undefined;
  };

  for (const name of ['one', 'two', 'nested/three']) app.get(`/${name}`, (_req, res) => res.type('html').send(page(name)));
  app.get('/', (_req, res) => res.type('html').send(page('home')));
  // Fetches 20 URLs at once while it parses, as a module graph does; window.burst gets each response's route (x-wingman-route).
  // Answers after ?ms= (at most 2 s): requests that keep their connection busy for a known time.
  app.get('/api/wait', (req, res) => {
    const ms = Math.min(2_000, Math.max(0, Number(req.query.ms) || 0));
    setTimeout(() => res.json({ waited: ms }), ms);
  });
  // Opens a WebSocket while it parses, as a dev server's HMR client does; window.wsAtLoad gets the app's hello.
  app.get('/ws-at-load', (_req, res) =>
    res
      .type('html')
      .send(
        `<!doctype html><title>ws-at-load</title><script>window.pageName = 'ws-at-load'; const ws = new WebSocket('ws://' + location.host + '/ws', ['chat']); ws.onmessage = (e) => { window.wsAtLoad = JSON.parse(String(e.data)); ws.close(1000); };</script>`,
      ),
  );
  // A page whose script aims at the app's own port, as a dev server's live reload does (Hugo: ws://<page host>:1313/livereload):
  // a WebSocket on the page's host and a fetch() of localhost; window.portWs / window.portFetch get what each came to,
  // window.otherPortFetch what a fetch() of localhost on another port came to.
  app.get('/port-page', (req, res) => {
    const port = Number(req.socket.localPort);
    res.type('html').send(`<!doctype html><title>port-page</title><script>
window.portFetch = fetch('http://localhost:${port}/api/hello?via=app-port').then((r) => r.json().then((j) => ({ transport: r.headers.get('x-wingman-transport'), query: j.query })), (e) => ({ error: String(e) }));
window.otherPortFetch = fetch('http://localhost:${port === 65535 ? 1 : port + 1}/api/hello').then((r) => ({ status: r.status }), (e) => ({ error: e.name }));
window.portWs = new Promise((resolve) => { const ws = new WebSocket('ws://' + location.hostname + ':${port}/ws?from=app-port'); ws.onmessage = () => { resolve({ url: ws.url }); ws.close(1000); }; ws.onerror = () => resolve({ error: 'error' }); });
window.pageName = 'port-page';
</script>`);
  });
  // A page with 20 subresources (10 scripts, 10 images): what "page load" benchmarks load.
  app.get('/gallery', (_req, res) => {
    const items = Array.from({ length: 10 }, (_, i) => `<script src="/asset/s${i}.js"></script><img src="/asset/i${i}.svg" width="8" height="8">`).join('');
    res
      .type('html')
      .send(
        `<!doctype html><html><head><meta charset="utf-8"><title>gallery</title></head><body>${items}<script>addEventListener('load', () => { window.pageName = 'gallery'; });</script></body></html>`,
      );
  });
  // The smallest Service Worker that intercepts every request (it passes each to the network
  // unchanged): the benchmark's floor for what any SW in a page's path costs. Not Wingman code;
  // only the bench registers it, on a relay-only session (browser-bench.ts, "SW floor").
  app.get('/floor-sw.js', (_req, res) =>
    res
      .type('text/javascript')
      .send(
        "self.addEventListener('install', () => self.skipWaiting());\nself.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));\nself.addEventListener('fetch', (e) => e.respondWith(fetch(e.request)));\n",
      ),
  );
  app.get('/asset/:name', (req, res) => {
    const name = String(req.params.name);
    if (name.endsWith('.js')) return res.type('text/javascript').send(`window.loaded = (window.loaded || 0) + 1; // ${'x'.repeat(2000)}`);
    res.type('image/svg+xml').send('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#3a7"/></svg>');
  });
  // HEAD first: express's GET route would answer HEAD too.
  app.head('/api/hello', (_req, res) => res.set('x-head', 'yes').end());
  app.get('/api/hello', (req, res) =>
    res.json({
      hello: 'world',
      method: req.method,
      query: req.query,
      host: req.headers.host,
      forwardedHost: req.headers['x-forwarded-host'] ?? null,
      forwardedFor: req.headers['x-forwarded-for'] ?? null,
    }),
  );
  app.get('/redirect', (_req, res) => res.redirect(302, '/api/hello?from=redirect'));
  // An absolute redirect built from the request (express's own res.redirect), as many apps do:
  // with the Host rewritten it names the app's address (localhost:<port>).
  app.get('/abs-redirect', (req, res) => res.redirect(`${req.protocol}://${req.get('host')}/two`));
  // A cookie for the whole tunnel domain (?domain=): what a hostile session tosses to every other session.
  app.get('/toss', (req, res) => {
    const { v, domain } = req.query;
    res.cookie('tossed', typeof v === 'string' ? v : 'x', { domain: typeof domain === 'string' ? domain : 'localhost', path: '/' });
    res.type('html').send(page('toss'));
  });
  app.get('/nav-redirect', (_req, res) => res.redirect(302, '/two?from=redirect'));
  app.get('/bytes', (req, res) => {
    const total = Number(req.query.n ?? 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total), 'cache-control': 'no-store' });
    writePattern(res, total);
  });
  // Byte ranges over deterministic bytes (what media elements and resumptions ask for).
  app.get('/ranged', (req, res) => {
    const total = Number(req.query.n ?? 1048576);
    const all = Buffer.concat(Array.from({ length: Math.ceil(total / 65536) }, (_, i) => patternBlock(i))).subarray(0, total);
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    res.set({ 'accept-ranges': 'bytes', etag: '"ranged-v1"', 'content-type': 'application/octet-stream' });
    if (!m) {
      // ?stall=N: the whole body's first N bytes, then nothing more; only a resumption (a Range request) gets the rest.
      const stall = Number(req.query.stall ?? 0);
      if (stall > 0 && stall < total) {
        res.set('content-length', String(total));
        res.write(all.subarray(0, stall));
        return;
      }
      return res.end(all);
    }
    const start = Number(m[1]);
    const end = m[2] ? Math.min(Number(m[2]), total - 1) : total - 1;
    if (start >= total || end < start) return res.status(416).set('content-range', `bytes */${total}`).end();
    res
      .status(206)
      .set('content-range', `bytes ${start}-${end}/${total}`)
      .end(all.subarray(start, end + 1));
  });
  app.post('/sha', (req, res) => {
    const h = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      length += c.length;
    });
    // ?head: also the body's headers as the app received them.
    const head = 'head' in req.query ? { contentType: req.headers['content-type'] ?? null } : {};
    req.on('end', () => res.json({ sha: h.digest('hex'), length, ...head }));
  });
  // Answers ?status= (default 200) at once, without reading the request body: an app refusing an upload (413) or done with it early.
  app.post('/early', (req, res) => {
    const status = Number(req.query.status) || 200;
    res.status(status).type('text').send(`early ${status}`);
  });
  app.get('/sse', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('data: first\n\n');
    held.push(() => res.end('data: second\n\n'));
  });
  app.get('/hang', () => undefined);
  app.get('/login', (_req, res) =>
    res
      .type('html')
      .send(
        '<!doctype html><title>login</title><h1 id="name">login</h1><form id="login-form" method="post" action="/login"><input name="user" value="alice"><button id="submit">go</button></form><script>window.pageName = "login";</script>',
      ),
  );
  app.post('/login', express.urlencoded({ extended: false }), (req, res) => {
    const user = typeof req.body?.user === 'string' ? req.body.user : 'anonymous';
    const sid = randomBytes(16).toString('hex');
    sessions.set(sid, user);
    res.cookie('sid', sid, { httpOnly: true, path: '/', sameSite: 'lax' });
    res.cookie('theme', 'dark', { path: '/', sameSite: 'lax' });
    res.redirect(303, '/account');
  });
  app.get('/account', (req, res) => {
    const user = sessionUser(req);
    if (!user)
      return res
        .status(401)
        .type('html')
        .send('<!doctype html><title>login</title><h1 id="name">login required</h1><script>window.pageName = "login required";</script>');
    res.type('html').send(`<!doctype html><title>account</title><h1 id="name">account of ${user}</h1><script>window.pageName = "account";</script>`);
  });
  // A document that sets cookies on a plain GET (a first visit's landing page that starts a session).
  app.get('/welcome', (_req, res) => {
    res.cookie('visit', randomBytes(8).toString('hex'), { httpOnly: true, path: '/', sameSite: 'lax' });
    res.cookie('seen', '1', { path: '/', sameSite: 'lax' });
    res.type('html').send(page('welcome'));
  });
  // A PWA: a page that registers its own Service Worker, which serves /cached from its cache.
  app.get('/pwa', (_req, res) =>
    res
      .type('html')
      .send(
        `<!doctype html><title>pwa</title><h1 id="name">pwa</h1><script>window.pageName = "pwa"; navigator.serviceWorker.register('/sw.js').then((r) => { window.registeredScope = r.scope; }, (e) => { window.registerError = String(e); });</script>`,
      ),
  );
  app.get('/sw.js', (_req, res) =>
    res.type('js')
      .send(`self.addEventListener('install', (e) => { self.skipWaiting(); e.waitUntil(caches.open('pwa').then((c) => c.put('/cached', new Response('from the app cache', { headers: { 'content-type': 'text/plain' } })))); });
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => { if (new URL(e.request.url).pathname === '/cached') e.respondWith(caches.match('/cached')); });`),
  );
  // A script-visible cookie set by the document a redirect leads to.
  app.get('/cookie-redirect', (_req, res) => res.redirect(302, '/cookie-landing'));
  app.get('/cookie-landing', (_req, res) => {
    res.cookie('landed', 'yes', { path: '/', sameSite: 'lax' });
    res.type('html').send(page('cookie-landing'));
  });
  // Script-visible cookies with each lifetime and scope attribute a browser keeps.
  app.get('/cookie-attrs', (_req, res) => {
    res.cookie('maxage', '1', { maxAge: 3_600_000, path: '/' });
    res.cookie('expires', '1', { expires: new Date(Date.now() + 3_600_000), path: '/' });
    res.cookie('strict', '1', { sameSite: 'strict', path: '/' });
    res.cookie('nested', '1', { path: '/nested' });
    res.cookie('gone', '1', { expires: new Date(0), path: '/' });
    res.type('html').send(page('cookie-attrs'));
  });
  app.get('/api/me', (req, res) => res.json({ user: sessionUser(req) ?? null, cookie: req.headers.cookie ?? '' }));
  app.post('/logout', (req, res) => {
    const m = /(?:^|;\s*)sid=([0-9a-f]+)/.exec(req.headers.cookie ?? '');
    if (m) sessions.delete(m[1]!);
    res.clearCookie('sid', { path: '/' });
    res.json({ ok: true });
  });

  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  // Two WebSocket routes on one server: ws's `path` option answers 400 to
  // every other path, so upgrades are routed here instead.
  const wss = new WebSocketServer({ noServer: true });
  const wssAuth = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ws') return wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    if (path === '/ws-auth') {
      // What express-session apps do: the upgrade is authenticated by the HttpOnly session cookie alone.
      const user = sessionUser(req);
      if (!user) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      return wssAuth.handleUpgrade(req, socket, head, (ws) => {
        ws.send(JSON.stringify({ user, url: req.url, cookie: req.headers.cookie ?? '', forwardedFor: req.headers['x-forwarded-for'] ?? null }));
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  wss.on('connection', (ws, req) => {
    // Over the relay the tunnel server adds X-Forwarded-For; over P2P the agent drops it (it could only be forged).
    ws.send(JSON.stringify({ hello: true, protocol: ws.protocol, cookie: req.headers.cookie ?? '', forwardedFor: req.headers['x-forwarded-for'] ?? null }));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  return {
    port: (server.address() as AddressInfo).port,
    hold(path, maxMs, method = 'GET') {
      const key = `${method} ${path}`;
      let state: 'waiting' | 'holding' | 'answered' = 'waiting';
      let answer = () => undefined as void;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let reachedNow = () => undefined as void;
      const reached = new Promise<void>((resolve) => (reachedNow = resolve));
      const release = () => {
        if (state === 'answered') return;
        if (state === 'waiting') holds.delete(key);
        state = 'answered';
        clearTimeout(timer);
        answer();
      };
      holds.set(key, (next) => {
        state = 'holding';
        answer = next;
        reachedNow();
        timer = setTimeout(release, maxMs);
      });
      return {
        reached,
        get holding() {
          return state === 'holding';
        },
        release,
      };
    },
    requests,
    aborted,
    waitForAborted: (path, timeoutMs) =>
      waitForEntry(aborted, events, 'aborted', { filter: (p) => p === path, timeoutMs, what: `the app's response to ${path} to be cut off` }),
    releaseSse: () => held.splice(0).forEach((fn) => fn()),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of [...wss.clients, ...wssAuth.clients]) c.terminate();
        wss.close();
        wssAuth.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
