/**
 * Differential fidelity: the same browser action, once straight against the
 * app and once through each Wingman path — P2P through the shell, the
 * shell's Service Worker over the relay (P2P impossible in the browser), and
 * the plain relay (`--no-p2p`, no shell) — must bring the app the same
 * request: the same method and target, the same header lines (each as often
 * as direct) and the same body bytes with the same framing. Only the
 * differences listed in docs/browser-client.md ("Fidelity") are removed
 * before comparing; IGNORED below is that list.
 */
import type { Frame, Page } from 'playwright-core';
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { startRecordingApp, type RecordedRequest, type RecordingApp } from './support/recording-app';
import { waitForApp, waitForTransport, WAIT_MS } from './support/shell';

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

type Mode = 'direct' | 'p2p' | 'sw-relay' | 'relay-only';

interface Action {
  name: string;
  /** Runs in the app's document; `tag` goes into the request target so each run's request is found. */
  run(target: Frame, tag: string): Promise<unknown>;
}

/** The request inits of the fetch actions, built in the page (Blob, FormData exist there). */
type FetchKind = 'string' | 'blob' | 'formdata' | 'arraybuffer' | 'put-json' | 'post-empty' | 'delete' | 'get-headers';

/** A fetch from the app's document; resolves with what the page saw. */
function fetchAction(name: string, kind: FetchKind): Action {
  return {
    name,
    run: (frame, tag) =>
      frame.evaluate(
        async ({ tag, kind }) => {
          const form = () => {
            const f = new FormData();
            f.append('a', 'b');
            f.append('file', new Blob(['hello']), 'h.txt');
            return f;
          };
          const inits: Record<FetchKind, () => RequestInit> = {
            string: () => ({ method: 'POST', body: 'a=1&b=' + 'x'.repeat(3000), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
            blob: () => ({ method: 'POST', body: new Blob([new Uint8Array(70000).map((_, i) => i % 251)], { type: 'application/octet-stream' }) }),
            formdata: () => ({ method: 'POST', body: form() }),
            arraybuffer: () => ({ method: 'POST', body: new Uint8Array([0, 1, 2, 255]).buffer }),
            'put-json': () => ({ method: 'PUT', body: JSON.stringify({ a: [1, 2, 3] }), headers: { 'content-type': 'application/json', 'x-app': 'one' } }),
            'post-empty': () => ({ method: 'POST' }),
            delete: () => ({ method: 'DELETE' }),
            'get-headers': () => ({ headers: { 'x-app': 'two', accept: 'application/json' } }),
          };
          const r = await fetch(`/act?${tag}`, inits[kind]());
          return { status: r.status, body: await r.text() };
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
      await frame.evaluate(
        ({ formId, tag }) => {
          const form = document.getElementById(formId) as HTMLFormElement;
          form.action = `${form.action}&${tag}`;
          form.submit();
        },
        { formId, tag },
      );
      await frame.waitForFunction(() => (window as unknown as { pageName?: string }).pageName === 'submitted', undefined, { timeout: WAIT_MS });
      return frame.evaluate(() => document.getElementById('result')?.textContent);
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
  return {
    method: r.method,
    target: norm(r.target),
    headers: r.headers
      .map(([n, v]): [string, string] => [n.toLowerCase(), norm(v)])
      .filter(([n]) => !IGNORED.has(n) && !UNKNOWABLE.has(n))
      .map(([n, v]) => FRAME_DIFFERENCES(`${n}: ${n === 'content-type' ? v.replace(/boundary=\S+/, 'boundary=<b>') : v}`))
      .sort(),
    framing: r.framing,
    body: r.body.toString('latin1').replace(/-{4,}[A-Za-z0-9]+/g, '<boundary>'),
  };
}

describe('fidelity: the app sees what it would see without Wingman', () => {
  let app: RecordingApp;
  let browser: LaunchedChromium;
  let noRtc: LaunchedChromium;
  let p2pOrigin: string;
  let relayOrigin: string;
  /** action name → mode → [the comparable request, the page's result] */
  const seen = new Map<string, Map<Mode, { request: ReturnType<typeof comparable>; result: unknown }>>();

  beforeAll(async () => {
    app = await startRecordingApp();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const p2p = await startAgent(`http://localhost:${port}`, String(app.port), {}, []);
    const plain = await startAgent(`http://localhost:${port}`, String(app.port), {}, ['--no-p2p']);
    p2pOrigin = `http://${p2p.sessionId}.localhost:${port}`;
    relayOrigin = `http://${plain.sessionId}.localhost:${port}`;
    browser = await launchChromium();
    noRtc = await launchChromium();
    await noRtc.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
  });

  afterAll(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await unregisterServiceWorkers(noRtc.page).catch(() => undefined);
    await browser?.close();
    await noRtc?.close();
    await killAll();
    await app?.close();
  });

  /** Opens `/page` for `mode` and returns the app's document (a frame of the shell, or the top-level page). */
  async function openApp(mode: Mode): Promise<{ frame: Frame; origin: string }> {
    if (mode === 'direct' || mode === 'relay-only') {
      const origin = mode === 'direct' ? `http://app.localhost:${app.port}` : relayOrigin;
      const page: Page = browser.page;
      await page.goto(`${origin}/page`);
      await page.waitForFunction(() => (window as unknown as { pageName?: string }).pageName === 'page', undefined, { timeout: WAIT_MS });
      return { frame: page.mainFrame(), origin };
    }
    const page = mode === 'p2p' ? browser.page : noRtc.page;
    await page.goto(`${p2pOrigin}/page`);
    const frame = await waitForApp(page, 'page');
    await waitForTransport(page, mode === 'p2p' ? 'p2p' : 'relay');
    return { frame, origin: p2pOrigin };
  }

  const MODES: Mode[] = ['direct', 'p2p', 'sw-relay', 'relay-only'];

  it.each(MODES)('runs every action %s and records what the app received', async (mode) => {
    for (const action of ACTIONS) {
      const { frame, origin } = await openApp(mode);
      const tag = `run=${mode}-${Math.random().toString(36).slice(2, 8)}`;
      const result = await action.run(frame, tag);
      const mine = app.requests.filter((r) => r.target.includes(tag));
      expect(`${action.name}: ${mine.length} request(s)`).toBe(`${action.name}: 1 request(s)`);
      const byMode = seen.get(action.name) ?? new Map();
      byMode.set(mode, { request: comparable(mine[0]!, origin, tag), result });
      seen.set(action.name, byMode);
    }
  });

  it.each(MODES.filter((m) => m !== 'direct'))('brings the app, %s, the same request and the page the same result as direct', (mode) => {
    const of = (m: Mode) => Object.fromEntries(ACTIONS.map((a) => [a.name, seen.get(a.name)?.get(m)]));
    expect(of(mode)).toEqual(of('direct'));
  });
});
