/**
 * Responses framed the way servers frame them at HTTP's edges
 * (test/helpers/edge-app.ts: trailers, `103 Early Hints`, a `100 Continue`
 * nobody asked for, uploads, HEAD,
 * 204 and 304 with and without a stray
 * body, a body cut by a closed connection, and a server that closes a
 * keep-alive connection as it is reused), behind `wingman http`: a page in
 * Chromium makes the same requests straight on the app, through the
 * session's shell over P2P and over the Service Worker's relay, and on the
 * plain relay (a `--no-p2p` session: no shell), and sees
 * the same thing (status, length, SHA-256, or the same error), every answer
 * over the path the shell is on; the agent's P2P host never ends.
 */
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { ZOO_BODY_BYTES } from './support/zoo/docroot';
import { startEdgeApp, type EdgeApp, type EdgeAppOptions } from '../../../../test/helpers/edge-app';
import { offPath, withoutPath, type PageOutcome, type ZooRequest } from './support/zoo/page-fetches';
import { p2pHostFate, pageRun, shellRun, useZooServer, type SharedApp } from './support/zoo/zoo-run';

jest.setTimeout(120_000);

const get = (target: string): ZooRequest => ({ method: 'GET', target });
const bodies = (route: string) => ZOO_BODY_BYTES.map((n) => get(`${route}?n=${n}`));

/** A body after each answer that leaves the connection in doubt: the page's next request must not pay for it. */
const thenBody = (request: ZooRequest): ZooRequest[] => [request, get('/bytes?n=70000')];

interface EdgeCase {
  app: EdgeAppOptions;
  requests: ZooRequest[];
  /** The requests a page straight on the app sees fail (the error the shell's page must see too). Default none. */
  failDirect?: string[];
}

const CASES: ReadonlyArray<readonly [string, EdgeCase]> = [
  ['a chunked body with trailers', { app: {}, requests: [...bodies('/trailers'), { method: 'HEAD', target: '/trailers?n=5000' }] }],
  ['a 103 Early Hints before the response', { app: {}, requests: bodies('/early-hints') }],
  [
    'a 100 Continue the app sends unasked before its answer',
    {
      app: {},
      requests: [
        ...[0, 70_000].map((n): ZooRequest => ({ method: 'POST', target: '/unasked-continue', uploadBytes: n })),
        ...thenBody(get('/unasked-continue')),
      ],
    },
  ],
  [
    'uploads of several sizes',
    { app: {}, requests: [0, 1, 70_000, 1_000_000].map((n): ZooRequest => ({ method: 'POST', target: '/upload', uploadBytes: n })) },
  ],
  ['HEAD', { app: {}, requests: [{ method: 'HEAD', target: '/bytes?n=1000000' }, ...thenBody({ method: 'HEAD', target: '/bytes?n=0' })] }],
  ['204 and 304 without a body', { app: {}, requests: [...thenBody(get('/204')), ...thenBody(get('/304'))] }],
  ['204 and 304 with a stray body', { app: {}, requests: [...thenBody(get('/204-with-body')), ...thenBody(get('/304-with-body'))] }],
  [
    'a body cut by the closed connection',
    {
      app: {},
      requests: [...thenBody(get('/cut?n=1000000')), ...thenBody(get('/cut-chunked?n=1000000'))],
      failDirect: ['GET /cut?n=1000000', 'GET /cut-chunked?n=1000000'],
    },
  ],
  ['a server that closes each keep-alive connection as it is reused', { app: { closeReused: 'close' }, requests: bodies('/bytes') }],
  ['a server that resets each keep-alive connection as it is reused', { app: { closeReused: 'reset' }, requests: bodies('/bytes') }],
];

let browser: LaunchedChromium;
let noRtc: LaunchedChromium;
/** Every case's sessions on one tunnel server. */
const zoo = useZooServer();

beforeAll(async () => {
  // Independent of each other: launched at once, each kept as it comes (afterAll closes what started, whatever failed).
  const launched = await Promise.allSettled([launchChromium().then((b) => (browser = b)), launchChromium({ webRtc: false }).then((b) => (noRtc = b))]);
  for (const l of launched) if (l.status === 'rejected') throw l.reason;
});

afterAll(async () => {
  await browser?.close();
  await noRtc?.close();
});

describe.each(CASES)('%s, behind wingman http', (_name, { app: appOptions, requests, failDirect = [] }) => {
  let app: EdgeApp;
  let shared: SharedApp;
  let plain: SharedApp;
  let direct: PageOutcome[];

  beforeAll(async () => {
    app = await startEdgeApp(appOptions);
    // The two sessions and the direct run need nothing of each other: started at once (afterAll ends what started).
    const started = await Promise.allSettled([
      zoo.share(app.port).then((s) => (shared = s)),
      zoo.share(app.port, ['--no-p2p']).then((s) => (plain = s)),
      pageRun(browser, `http://127.0.0.1:${app.port}/`, requests).then((d) => (direct = withoutPath(d))),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await unregisterServiceWorkers(noRtc.page).catch(() => undefined);
    await zoo.endCase();
    await app?.close();
  });

  it('reaches the page over P2P as it does direct, and the P2P host lives', async () => {
    expect(direct.filter((o) => o.error !== undefined).map((o) => o.request)).toEqual(failDirect);
    const { outcomes: p2p, viewerId } = await shellRun(browser, shared, '/', 'edge', 'p2p', requests);
    expect(await p2pHostFate(shared.agent, viewerId)).toEqual({ endings: [], hosts: 1 });
    expect(offPath(p2p, 'p2p')).toEqual([]);
    expect(withoutPath(p2p)).toEqual(direct);
    // The case happened: the agent reused connections the app then closed under its requests.
    if (appOptions.closeReused !== undefined) expect(app.closedOnReuse()).toBeGreaterThan(0);
  });

  it("reaches the page over the Service Worker's relay as it does direct", async () => {
    const { outcomes: relay } = await shellRun(noRtc, shared, '/', 'edge', 'relay', requests);
    expect(offPath(relay, 'relay')).toEqual([]);
    expect(withoutPath(relay)).toEqual(direct);
  });

  it('reaches the page over the plain relay (--no-p2p: no shell) as it does direct', async () => {
    const relay = await pageRun(browser, `${plain.origin}/`, requests);
    expect(offPath(relay, 'relay')).toEqual([]);
    expect(withoutPath(relay)).toEqual(direct);
  });
});
