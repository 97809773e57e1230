/**
 * A front end, its API and its WebSocket server, three apps on three ports,
 * under one link (`wingman http <front> --route /api=<api> --route
 * /ws=<socket>`), in the browsers reviewers use: Chromium and Firefox over
 * P2P and over the Service Worker's relay, WebKit over the relay (it has no
 * WebRTC here). The page logs in through the API (a POST the API accepts only
 * when its Origin names its Host, as Django's CSRF check does; it sets an
 * HttpOnly session cookie and a cookie the page reads), asks the API who it
 * is (the session cookie must come back), reads a page of the front end and
 * echoes over a WebSocket whose server checks Origin as Tornado's default
 * does. The reference is the same browser on the apps' local setup: one
 * origin, a reverse proxy sending each prefix to its app (as a dev server's
 * proxy or production's reverse proxy does). Through Wingman the page must
 * get the same answers, each exchange served by its route's app.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { useEnginePair, WEBRTC_ENGINES } from './helpers/engines';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import { shellAppFrame, useWebKit } from './support/webkit-stack';

jest.setTimeout(180_000);

/** The front end's page: its checks run on demand (`runChecks`), each answer as the page got it. */
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>routes</title></head><body>
<script>
window.pageName = 'routes';
window.runChecks = async (waitMs) => {
  const login = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"ada"}' });
  const loginText = login.status + ' ' + (await login.text());
  const me = await fetch('/api/me').then((r) => r.text());
  const about = await fetch('/about').then((r) => r.text());
  const echo = await new Promise((resolve) => {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/ws/echo');
    const timer = setTimeout(() => resolve('no answer'), waitMs);
    ws.onopen = () => ws.send('hi');
    ws.onmessage = (e) => { clearTimeout(timer); resolve(String(e.data)); ws.close(); };
    ws.onclose = (e) => { clearTimeout(timer); resolve('closed ' + e.code); };
  });
  const cookies = document.cookie.split('; ').filter((c) => c.startsWith('theme='));
  return { login: loginText, me, about, echo, cookies };
};
</script></body></html>`;

/** What the page gets on the apps' local setup, and must get through Wingman. */
const EXPECTED = { login: '200 api: welcome ada', me: 'api: you are ada', about: 'front: about', echo: 'socket: hi', cookies: ['theme=dark'] };

/** A WebSocket answer on loopback comes within milliseconds; 10 s covers a loaded machine. */
const ECHO_WAIT_MS = 10_000;

/** Origin names the Host the app was sent (Django's CSRF origin check, Tornado's check_origin). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin !== undefined && URL.canParse(origin) && new URL(origin).host === req.headers.host;
}

interface Service {
  server: Server;
  port: number;
}

async function listen(server: Server): Promise<Service> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...headers });
  res.end(body);
}

/** The front end: its page and one more path. */
function startFront(): Promise<Service> {
  return listen(
    createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      text(res, req.url === '/about' ? 200 : 404, req.url === '/about' ? 'front: about' : 'front: not found');
    }),
  );
}

/** The API: a login that checks Origin against Host and sets its cookies, and a /me that reads the session cookie. */
function startApi(): Promise<Service> {
  return listen(
    createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        if (req.url === '/api/login' && req.method === 'POST') {
          if (!sameOrigin(req)) return text(res, 403, `api: origin ${req.headers.origin ?? 'absent'} is not ${req.headers.host ?? 'absent'}`);
          const user = (JSON.parse(Buffer.concat(parts).toString()) as { user: string }).user;
          return text(res, 200, `api: welcome ${user}`, { 'set-cookie': [`sid=${user}; Path=/; HttpOnly; SameSite=Lax`, 'theme=dark; Path=/'] });
        }
        if (req.url === '/api/me') return text(res, 200, `api: you are ${/(?:^|; )sid=([^;]+)/.exec(req.headers.cookie ?? '')?.[1] ?? 'nobody'}`);
        text(res, 404, 'api: not found');
      });
    }),
  );
}

/** The WebSocket server: refuses a handshake whose Origin does not name its Host, echoes otherwise. */
async function startSocket(): Promise<Service> {
  const service = await listen(createServer((_req, res) => text(res, 404, 'socket: not found')));
  new WebSocketServer({ server: service.server, path: '/ws/echo', verifyClient: ({ req }: { req: IncomingMessage }) => sameOrigin(req) }).on(
    'connection',
    (ws) => ws.on('message', (m) => ws.send(`socket: ${String(m)}`)),
  );
  return service;
}

/** The apps' local setup: one origin, each prefix proxied to its app with the request as the browser sent it. */
async function startLocalProxy(main: number, routes: Array<[prefix: string, port: number]>): Promise<Service> {
  const portFor = (url = '/') => {
    const path = url.split('?')[0]!;
    return routes.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1] ?? main;
  };
  const server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: portFor(req.url), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const upstream = connect(portFor(req.url), '127.0.0.1', () => {
      const lines = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  return listen(server);
}

type Checks = typeof EXPECTED;

/** Runs the page's checks in `target` once its script is there. */
async function runChecks(target: AnyPage | AnyFrame): Promise<Checks> {
  await until(() => inPage(target, () => typeof (window as unknown as { runChecks?: unknown }).runChecks === 'function', undefined).catch(() => false), {
    timeoutMs: WAIT_MS,
    intervalMs: 50,
    what: "the front end's page",
  });
  return inPage(target, (waitMs) => (window as unknown as { runChecks(w: number): Promise<Checks> }).runChecks(waitMs), ECHO_WAIT_MS);
}

describe('a front end, its API and its WebSocket server under one link (--route)', () => {
  let services: Service[] = [];
  let proxy: Service;
  let origin: string;
  let agent: Proc;

  beforeAll(async () => {
    const [front, api, socket] = await Promise.all([startFront(), startApi(), startSocket()]);
    services = [front!, api!, socket!];
    proxy = await startLocalProxy(front!.port, [
      ['/api', api!.port],
      ['/ws', socket!.port],
    ]);
    services.push(proxy);
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const started = await startAgent(`http://localhost:${port}`, String(front!.port), {}, ['--route', `/api=${api!.port}`, '--route', `/ws=${socket!.port}`]);
    agent = started.agent;
    origin = `http://${started.sessionId}.localhost:${port}`;
  });

  afterAll(async () => {
    await killAll();
    for (const { server } of services) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** The agent's log lines, after its `from`th event, of the page's API login and WebSocket handshake (the P2P host's arrive over IPC, after the response). */
  const routedLog = (from: number) =>
    until(
      () => {
        const lines = agent.events.slice(from).filter((e) => e.event === 'request');
        const pick = (target: string) => lines.filter((e) => e.target === target).map((e) => ({ status: e.status, transport: e.transport, mount: e.mount }))[0];
        const login = pick('/api/login');
        const echo = pick('/ws/echo');
        return login && echo ? { login, echo } : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 20, what: "the agent's log lines of the login and the WebSocket handshake" },
    );

  describe.each(WEBRTC_ENGINES)('in %s', (engine) => {
    const engines = useEnginePair(engine);

    it("runs against the apps' local setup, one origin (the reference)", async () => {
      await engines.browser.page.goto(`http://127.0.0.1:${proxy.port}/`);
      expect(await runChecks(engines.browser.page)).toEqual(EXPECTED);
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)('runs through the shell over %s as on the local setup, each route served by its app', async (_name, transport) => {
      const page = engines.pageFor(transport);
      await page.goto(`${origin}/`);
      const frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'routes');
      await waitForTransport(page, transport);
      const logged = agent.events.length;
      expect(await runChecks(frame)).toEqual(EXPECTED);
      expect(await routedLog(logged)).toEqual({
        login: { status: 200, transport, mount: '/api' },
        echo: { status: 101, transport, mount: '/ws' },
      });
    });
  });

  describe('in WebKit (no WebRTC: the Service Worker relay)', () => {
    const env = useWebKit();

    it("runs against the apps' local setup, and through the shell over the relay, alike", async () => {
      const page = env.webkit.page;
      await page.goto(`http://127.0.0.1:${proxy.port}/`);
      const direct = await runChecks(page);
      expect(direct).toEqual(EXPECTED);

      await page.goto(`${origin}/`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      const frame = await shellAppFrame(page);
      const logged = agent.events.length;
      expect(await runChecks(frame)).toEqual(direct);
      expect(await routedLog(logged)).toEqual({
        login: { status: 200, transport: 'relay', mount: '/api' },
        echo: { status: 101, transport: 'relay', mount: '/ws' },
      });
    });
  });
});
