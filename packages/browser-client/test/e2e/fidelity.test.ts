/**
 * Differential fidelity: the same browser action, once straight against the
 * app and once through each Wingman path — P2P through the shell, the
 * shell's Service Worker over the relay (P2P impossible in the browser), and
 * the plain relay (`--no-p2p`, no shell) in Chromium; P2P in Firefox against
 * Firefox's own direct run — must bring the app the same requests (method,
 * target, header lines each as often as direct, body bytes and their framing)
 * and the page the same result (status, final URL, body, document.cookie).
 * Only the differences listed in docs/browser-client.md ("Fidelity") are
 * removed before comparing; IGNORED below is that list.
 */
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { startRecordingApp, type RecordedRequest, type RecordingApp } from './support/recording-app';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';

jest.setTimeout(180_000);

/**
 * Header fields a tunnel cannot or need not keep as the browser sent them,
 * each with its reason in docs/browser-client.md's fidelity table. The
 * comparison drops them on both sides.
 */
const IGNORED = new Set([
  'host', // the app's own address (--host-header rewrite); the session's host goes in x-forwarded-host
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'connection', // hop-by-hop: the agent's keep-alive pool speaks for itself
  'keep-alive',
  'accept-encoding', // each hop negotiates its own codings (a SW decodes only gzip/deflate)
  'priority', // an HTTP/2+ scheduling hint of the browser's own connection
]);

type Mode = 'direct' | 'p2p' | 'sw-relay' | 'relay-only' | 'firefox-direct' | 'firefox-p2p';

interface Action {
  name: string;
  /** Runs in the app's document; `tag` goes into every request target so each run's requests are found. */
  run(target: AnyFrame, tag: string): Promise<unknown>;
}

/** The request inits of the fetch actions, built in the page (Blob, FormData exist there). */
type FetchKind =
  | 'string'
  | 'blob'
  | 'formdata'
  | 'arraybuffer'
  | 'put-json'
  | 'post-empty'
  | 'delete'
  | 'get-headers'
  | 'head'
  | 'range'
  | 'conditional'
  | 'redirect-302-cookie'
  | 'redirect-303-post'
  | 'redirect-307-post'
  | 'redirect-308-post'
  | 'redirect-301-get'
  | 'cookie-max-age';

/** A fetch from the app's document; resolves with what the page saw. */
function fetchAction(name: string, kind: FetchKind): Action {
  return {
    name,
    run: (frame, tag) =>
      inPage(
        frame,
        async ({ tag, kind }) => {
          const form = () => {
            const f = new FormData();
            f.append('a', 'b');
            f.append('file', new Blob(['hello']), 'h.txt');
            return f;
          };
          const post = (body: string): RequestInit => ({ method: 'POST', body, headers: { 'content-type': 'text/plain' } });
          const redirect = (status: number, extra = '') => `status=${status}&location=${encodeURIComponent(`/landing?${tag}`)}${extra}`;
          const inits: Record<FetchKind, [string, () => RequestInit]> = {
            string: ['', () => ({ method: 'POST', body: 'a=1&b=' + 'x'.repeat(3000), headers: { 'content-type': 'application/x-www-form-urlencoded' } })],
            blob: ['', () => ({ method: 'POST', body: new Blob([new Uint8Array(70000).map((_, i) => i % 251)], { type: 'application/octet-stream' }) })],
            formdata: ['', () => ({ method: 'POST', body: form() })],
            arraybuffer: ['', () => ({ method: 'POST', body: new Uint8Array([0, 1, 2, 255]).buffer })],
            'put-json': [
              '',
              () => ({ method: 'PUT', body: JSON.stringify({ a: [1, 2, 3] }), headers: { 'content-type': 'application/json', 'x-app': 'one' } }),
            ],
            'post-empty': ['', () => ({ method: 'POST' })],
            delete: ['', () => ({ method: 'DELETE' })],
            'get-headers': ['', () => ({ headers: { 'x-app': 'two', accept: 'application/json' } })],
            head: ['', () => ({ method: 'HEAD' })],
            range: ['/range', () => ({ headers: { range: 'bytes=10-19' } })],
            conditional: ['&etag=v1', () => ({ headers: { 'if-none-match': '"v1"' } })],
            'redirect-302-cookie': [`&${redirect(302, '&cookie=' + encodeURIComponent('moved=1; Path=/'))}`, () => ({})],
            'redirect-303-post': [`&${redirect(303)}`, () => post('to be dropped')],
            'redirect-307-post': [`&${redirect(307)}`, () => post('kept on 307')],
            'redirect-308-post': [`&${redirect(308)}`, () => post('kept on 308')],
            'redirect-301-get': [`&${redirect(301)}`, () => ({})],
            'cookie-max-age': ['&cookie=' + encodeURIComponent('aged=2; Max-Age=3600; Path=/; SameSite=Lax'), () => ({})],
          };
          const [extra, init] = inits[kind];
          const url = extra.startsWith('/') ? `${extra}?${tag}` : `/act?${tag}${extra}`;
          const r = await fetch(url, init());
          // A second request shows which cookies the browser now sends.
          await fetch(`/after?${tag}`);
          return {
            status: r.status,
            url: new URL(r.url).pathname + new URL(r.url).search,
            redirected: r.redirected,
            body: await r.text(),
            cookie: document.cookie.split('; ').sort().join('; '),
          };
        },
        { tag, kind },
      ),
  };
}

/** A form submitted as a navigation of the app's document; resolves with the result page's text. */
function formAction(name: string, formId: string): Action {
  return {
    name,
    async run(frame, tag) {
      await inPage(
        frame,
        ({ formId, tag }) => {
          const form = document.getElementById(formId) as HTMLFormElement;
          form.action = `${form.action}&${tag}`;
          form.submit();
        },
        { formId, tag },
      );
      return until(
        async () => {
          const r = await inPage(frame, () => document.getElementById('result')?.textContent, undefined).catch(() => undefined);
          return r ?? undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the form post’s result page' },
      );
    },
  };
}

const ACTIONS: Action[] = [
  formAction('form POST, urlencoded', 'urlencoded'),
  formAction('form POST, multipart', 'multipart'),
  fetchAction('fetch POST, string', 'string'),
  fetchAction('fetch POST, Blob', 'blob'),
  fetchAction('fetch POST, FormData', 'formdata'),
  fetchAction('fetch POST, ArrayBuffer', 'arraybuffer'),
  fetchAction('fetch PUT, JSON', 'put-json'),
  fetchAction('fetch POST, no body', 'post-empty'),
  fetchAction('fetch DELETE, no body', 'delete'),
  fetchAction('fetch GET with app headers', 'get-headers'),
  fetchAction('fetch HEAD', 'head'),
  fetchAction('fetch GET, Range', 'range'),
  fetchAction('fetch GET, If-None-Match → 304', 'conditional'),
  fetchAction('fetch GET → 302 setting a cookie', 'redirect-302-cookie'),
  fetchAction('fetch POST → 303', 'redirect-303-post'),
  fetchAction('fetch POST → 307, body kept', 'redirect-307-post'),
  fetchAction('fetch POST → 308, body kept', 'redirect-308-post'),
  fetchAction('fetch GET → 301', 'redirect-301-get'),
  fetchAction('a cookie with Max-Age, Path and SameSite', 'cookie-max-age'),
];

/**
 * Differences of the shell's frame, listed in the same table: the app's
 * document is in a frame, so the browser reports its navigations as
 * `sec-fetch-dest: iframe`, and a Service Worker cannot see the user
 * activation behind `sec-fetch-user`.
 */
const FRAME_DIFFERENCES = (line: string) => (line === 'sec-fetch-dest: iframe' ? 'sec-fetch-dest: document' : line);
const UNKNOWABLE = new Set(['sec-fetch-user']);

/** A request as compared: header lines lower-cased, sorted, without IGNORED; origins replaced by a placeholder. */
function comparable(r: RecordedRequest, origin: string, tag: string) {
  const norm = (v: string) => v.split(origin).join('<origin>').split(tag).join('<tag>');
  // A multipart body's boundaries are random, and of random length in Firefox: its length is compared through the masked body.
  const multipart = r.headers.some(([n, v]) => n.toLowerCase() === 'content-type' && v.startsWith('multipart/'));
  return {
    method: r.method,
    target: norm(r.target),
    headers: r.headers
      .map(([n, v]): [string, string] => [n.toLowerCase(), norm(v)])
      .filter(([n]) => !IGNORED.has(n) && !UNKNOWABLE.has(n))
      .map(([n, v]) =>
        FRAME_DIFFERENCES(
          `${n}: ${n === 'content-type' ? v.replace(/boundary=\S+/, 'boundary=<b>') : n === 'content-length' && multipart ? '<length with random boundaries>' : v}`,
        ),
      )
      .sort(),
    framing: r.framing,
    body: r.body.toString('latin1').replace(/-{4,}[A-Za-z0-9]+/g, '<boundary>'),
  };
}

describe('fidelity: the app sees what it would see without Wingman', () => {
  let app: RecordingApp;
  let browser: LaunchedChromium;
  let noRtc: LaunchedChromium;
  let firefox: LaunchedFirefox;
  let p2pOrigin: string;
  let relayOrigin: string;
  /** action name → mode → the comparable requests and the page's result */
  const seen = new Map<string, Map<Mode, { requests: Array<ReturnType<typeof comparable>>; result: unknown }>>();

  beforeAll(async () => {
    app = await startRecordingApp();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const p2p = await startAgent(`http://localhost:${port}`, String(app.port), {}, []);
    const plain = await startAgent(`http://localhost:${port}`, String(app.port), {}, ['--no-p2p']);
    p2pOrigin = `http://${p2p.sessionId}.localhost:${port}`;
    relayOrigin = `http://${plain.sessionId}.localhost:${port}`;
    browser = await launchChromium();
    noRtc = await launchChromium({ webRtc: false });
    firefox = await launchFirefox();
  });

  afterAll(async () => {
    for (const page of [browser?.page, noRtc?.page, firefox?.page]) if (page) await unregisterServiceWorkers(page).catch(() => undefined);
    await browser?.close();
    await noRtc?.close();
    await firefox?.close();
    await killAll();
    await app?.close();
  });

  const pageOf = (mode: Mode): AnyPage => (mode.startsWith('firefox') ? firefox.page : mode === 'sw-relay' ? noRtc.page : browser.page);

  /** Opens `/page` for `mode` and returns the app's document (a frame of the shell, or the top-level page). */
  async function openApp(mode: Mode): Promise<{ frame: AnyFrame; origin: string }> {
    const page = pageOf(mode);
    if (mode === 'direct' || mode === 'relay-only' || mode === 'firefox-direct') {
      const origin = mode === 'relay-only' ? relayOrigin : `http://app.localhost:${app.port}`;
      await page.goto(`${origin}/page`);
      await until(
        async () =>
          (await inPage(page, () => (window as unknown as { pageName?: string }).pageName, undefined).catch(() => undefined)) === 'page' ? true : undefined,
        {
          timeoutMs: WAIT_MS,
          intervalMs: 50,
          what: 'the app page',
        },
      );
      return { frame: page.mainFrame() as AnyFrame, origin };
    }
    await page.goto(`${p2pOrigin}/page`);
    const frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'page');
    await waitForTransport(page, mode === 'sw-relay' ? 'relay' : 'p2p');
    return { frame, origin: p2pOrigin };
  }

  const MODES: Mode[] = ['direct', 'p2p', 'sw-relay', 'relay-only', 'firefox-direct', 'firefox-p2p'];

  it.each(MODES)('runs every action %s and records what the app received', async (mode) => {
    for (const action of ACTIONS) {
      const { frame, origin } = await openApp(mode);
      // A bare query key of letters, digits and dashes: the same in a URL and URL-encoded in a Location.
      const tag = `tag-${mode}-${Math.random().toString(36).slice(2, 8)}`;
      const result: unknown = JSON.parse(
        JSON.stringify(await action.run(frame, tag))
          .split(tag)
          .join('<tag>'),
      );
      const requests = app.requests.filter((r) => r.target.includes(tag)).map((r) => comparable(r, origin, tag));
      const byMode = seen.get(action.name) ?? new Map();
      byMode.set(mode, { requests, result });
      seen.set(action.name, byMode);
    }
  });

  const of = (m: Mode) => Object.fromEntries(ACTIONS.map((a) => [a.name, seen.get(a.name)?.get(m)]));

  it.each(['p2p', 'sw-relay', 'relay-only'] as const)('brings the app, %s in Chromium, the same requests and the page the same result as direct', (mode) => {
    expect(of(mode)).toEqual(of('direct'));
  });

  it('brings the app, P2P in Firefox, the same requests and the page the same result as Firefox direct', () => {
    expect(of('firefox-p2p')).toEqual(of('firefox-direct'));
  });
});
