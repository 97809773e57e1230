/**
 * Stock HTTP servers a developer shares as they are (support/zoo/stock-servers.ts:
 * `python3 -m http.server`, Ruby's WEBrick, `php -S`, `busybox httpd`, and
 * nginx and lighttpd each with keep-alive and with `Connection: close`),
 * each behind `wingman http`: a page downloads bodies
 * of several sizes (support/zoo/docroot.ts), a HEAD and a missing file in
 * Chromium, straight from the server, through the session's shell over
 * P2P and over the Service Worker's relay, and on the plain relay (a
 * `--no-p2p` session: no shell). Through Wingman the page sees
 * what it sees direct (status, length, SHA-256, or the same error), every
 * answer over the path the shell is on, and the agent's P2P host never ends.
 */
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { writeDocroot, ZOO_BODY_BYTES, ZOO_PAGE, type Docroot } from './support/zoo/docroot';
import { offPath, withoutPath, type PageOutcome, type ZooRequest } from './support/zoo/page-fetches';
import { STOCK_SERVERS } from './support/zoo/stock-servers';
import { p2pHostFate, pageRun, shellRun, useZooServer, type SharedApp } from './support/zoo/zoo-run';

jest.setTimeout(120_000);

const REQUESTS: ZooRequest[] = [
  ...ZOO_BODY_BYTES.map((n): ZooRequest => ({ method: 'GET', target: `/body-${n}.bin` })),
  { method: 'HEAD', target: '/body-1000000.bin' },
  { method: 'GET', target: '/missing.bin', statusOnly: true },
  // Again after the 404: the server's connection (kept or closed) serves the next body as the first.
  { method: 'GET', target: '/body-65537.bin' },
];

let docroot: Docroot;
let browser: LaunchedChromium;
let noRtc: LaunchedChromium;
/** Every server's sessions on one tunnel server: each case shares its own server on a port of its own. */
const zoo = useZooServer();

beforeAll(async () => {
  docroot = writeDocroot();
  // Independent of each other: launched at once, each kept as it comes (afterAll closes what started, whatever failed).
  const launched = await Promise.allSettled([launchChromium().then((b) => (browser = b)), launchChromium({ webRtc: false }).then((b) => (noRtc = b))]);
  for (const l of launched) if (l.status === 'rejected') throw l.reason;
});

afterAll(async () => {
  await browser?.close();
  await noRtc?.close();
  docroot?.remove();
});

describe.each(STOCK_SERVERS.map((s) => [s.name, s] as const))('%s behind wingman http', (_name, server) => {
  let shared: SharedApp;
  let plain: SharedApp;
  let direct: PageOutcome[];

  beforeAll(async () => {
    const port = await server.start(docroot);
    // The two sessions and the direct run need nothing of each other: started at once (afterAll ends what started).
    const started = await Promise.allSettled([
      zoo.share(port).then((s) => (shared = s)),
      zoo.share(port, ['--no-p2p']).then((s) => (plain = s)),
      pageRun(browser, `http://127.0.0.1:${port}${ZOO_PAGE}`, REQUESTS).then((d) => (direct = d)),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await unregisterServiceWorkers(noRtc.page).catch(() => undefined);
    await zoo.endCase();
  });

  it('every body reaches the page over P2P as it does direct, and the P2P host lives', async () => {
    expect(direct.filter((o) => o.error !== undefined)).toEqual([]);
    const { outcomes: p2p, viewerId } = await shellRun(browser, shared, ZOO_PAGE, 'zoo', 'p2p', REQUESTS);
    expect(await p2pHostFate(shared.agent, viewerId)).toEqual({ endings: [], hosts: 1 });
    expect(offPath(p2p, 'p2p')).toEqual([]);
    expect(withoutPath(p2p)).toEqual(withoutPath(direct));
  });

  it("every body reaches the page over the Service Worker's relay as it does direct", async () => {
    const { outcomes: relay } = await shellRun(noRtc, shared, ZOO_PAGE, 'zoo', 'relay', REQUESTS);
    expect(offPath(relay, 'relay')).toEqual([]);
    expect(withoutPath(relay)).toEqual(withoutPath(direct));
  });

  it('every body reaches the page over the plain relay (--no-p2p: no shell) as it does direct', async () => {
    const relay = await pageRun(browser, `${plain.origin}${ZOO_PAGE}`, REQUESTS);
    expect(offPath(relay, 'relay')).toEqual([]);
    expect(withoutPath(relay)).toEqual(withoutPath(direct));
  });
});
