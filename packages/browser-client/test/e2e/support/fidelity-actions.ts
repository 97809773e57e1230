/**
 * The reviewer actions of the differential fidelity suite
 * (test/e2e/fidelity.test.ts), each run in the app's document against the
 * recording app (support/recording-app.ts). An action resolves with what the
 * page saw; what the app saw is read from the recording afterwards. Every
 * request target carries the run's `tag`, so each run's requests are found
 * (and the tag is masked before comparing).
 */
import { until } from '../../../../../test/helpers/wait';
import type { Downloads } from './downloads';
import { DOWNLOAD_NAME } from './recording-app';
import { inPage, WAIT_MS, type AnyFrame, type AnyPage } from './shell';

export interface ActionContext {
  /** The app's document: a frame of the shell, or the top-level page. */
  frame: AnyFrame | AnyPage;
  /** A bare query key of letters, digits and dashes: the same in a URL and URL-encoded in a Location. */
  tag: string;
  downloads: Downloads;
}

export interface Action {
  name: string;
  run(ctx: ActionContext): Promise<unknown>;
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
    run: ({ frame, tag }) =>
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

/** Polls the app's document until `read` returns something (a navigation in progress reads as nothing). */
function waitInPage<R>(frame: AnyFrame | AnyPage, read: () => R | undefined, what: string): Promise<R> {
  return until(async () => (await inPage(frame, read, undefined).catch(() => undefined)) ?? undefined, { timeoutMs: WAIT_MS, intervalMs: 50, what });
}

/** A form submitted as a navigation of the app's document; resolves with the result page's text. */
function formAction(name: string, formId: string): Action {
  return {
    name,
    async run({ frame, tag }) {
      await inPage(
        frame,
        ({ formId, tag }) => {
          const form = document.getElementById(formId) as HTMLFormElement;
          form.action = `${form.action}&${tag}`;
          form.submit();
        },
        { formId, tag },
      );
      return waitInPage(frame, () => document.getElementById('result')?.textContent ?? undefined, 'the form post’s result page');
    },
  };
}

/**
 * Server-Sent Events: an EventSource through the recording app's three
 * connections (events with ids, a named event over two data lines, `retry`,
 * a reconnect with Last-Event-ID, a 204 that closes it); resolves with every
 * event the page saw, in order.
 */
const sseAction: Action = {
  name: 'EventSource: events, ids, retry, reconnect with Last-Event-ID',
  run: ({ frame, tag }) =>
    inPage(
      frame,
      ({ tag }) =>
        new Promise((resolve) => {
          const seen: unknown[] = [];
          const es = new EventSource(`/sse?${tag}`);
          const record = (e: Event) => {
            const m = e as MessageEvent<string>;
            seen.push(e.type === 'open' || e.type === 'error' ? `${e.type} ${es.readyState}` : { type: e.type, data: m.data, id: m.lastEventId });
            if (e.type === 'error' && es.readyState === EventSource.CLOSED) resolve(seen);
          };
          for (const type of ['open', 'message', 'named', 'error']) es.addEventListener(type, record);
          // Bounded: the whole exchange takes well under a second.
          setTimeout(() => (es.close(), resolve({ unfinished: seen })), 10_000);
        }),
      { tag },
    ),
};

/**
 * A WebSocket offering two subprotocols in the app's reverse preference: the
 * page must see the app's pick, its greeting, a text and a binary echo, and
 * the app's own close code and reason.
 */
const webSocketAction: Action = {
  name: 'WebSocket with subprotocols, text and binary echo, server close',
  run: ({ frame, tag }) =>
    inPage(
      frame,
      ({ tag }) =>
        new Promise((resolve) => {
          const seen: string[] = [];
          const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?${tag}`, ['chat.v2', 'chat.v1']);
          ws.binaryType = 'arraybuffer';
          ws.onopen = () => {
            seen.push(`open protocol=${ws.protocol} extensions=${ws.extensions}`);
            ws.send('ping');
            ws.send(new Uint8Array([0, 1, 254, 255]));
          };
          ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
            seen.push(typeof e.data === 'string' ? e.data : `binary ${new Uint8Array(e.data).join(',')}`);
            // The greeting and both echoes: then ask the app to close.
            if (seen.length === 4) ws.send('bye');
          };
          ws.onerror = () => seen.push('error');
          ws.onclose = (e) => resolve({ seen, code: e.code, reason: e.reason, wasClean: e.wasClean, protocol: ws.protocol });
          setTimeout(() => (ws.close(), resolve({ unfinished: seen })), 10_000);
        }),
      { tag },
    ),
};

/** `<a download>` to an attachment: the page stays, the browser saves the app's bytes under the app's file name. */
const downloadAction: Action = {
  name: 'download through <a download>',
  async run({ frame, tag, downloads }) {
    const saved = await downloads.next(() =>
      inPage(
        frame,
        ({ tag }) => {
          const a = document.createElement('a');
          a.href = `/download?${tag}`;
          a.download = 'link-name.bin';
          document.body.append(a);
          a.click();
          a.remove();
        },
        { tag },
      ),
    );
    const stayed = await waitInPage(frame, () => (window as unknown as { pageName?: string }).pageName, 'the page after the download');
    return { saved, stayed, expectedName: DOWNLOAD_NAME };
  },
};

/**
 * Cookies the page's script sets: sent on the next fetch and on a navigation
 * of the app's document, deleted by the script, then no longer sent.
 */
const scriptCookieAction: Action = {
  name: 'script-set cookie: sent on fetch and navigation, then deleted',
  async run({ frame, tag }) {
    const before = await inPage(
      frame,
      async ({ tag }) => {
        document.cookie = 'scripted=yes; Path=/';
        document.cookie = 'scripted-aged=1; Max-Age=3600; Path=/; SameSite=Strict';
        await fetch(`/after-script-set?${tag}`);
        const cookie = document.cookie.split('; ').sort().join('; ');
        // After this script has answered: a navigation would end the script's context under it.
        setTimeout(() => (location.href = `/page?${tag}&navigated=1`), 10);
        return cookie;
      },
      { tag },
    );
    await waitInPage(
      frame,
      () => (location.search.includes('navigated=1') && (window as unknown as { pageName?: string }).pageName) || undefined,
      'the navigated page',
    );
    const after = await inPage(
      frame,
      async ({ tag }) => {
        const seen = document.cookie.split('; ').sort().join('; ');
        document.cookie = 'scripted=; Max-Age=0; Path=/';
        document.cookie = 'scripted-aged=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/';
        await fetch(`/after-script-delete?${tag}`);
        return { seen, afterDelete: document.cookie.split('; ').sort().join('; ') };
      },
      { tag },
    );
    return { before, ...after };
  },
};

/**
 * fetch() with a ReadableStream body (`duplex: 'half'`): what the engine
 * supports (the feature test from the Fetch standard's explainer) and what
 * became of the request — the app's answer, or the error's name.
 */
const streamBodyAction: Action = {
  name: 'fetch POST, ReadableStream body (duplex: half)',
  run: ({ frame, tag }) =>
    inPage(
      frame,
      async ({ tag }) => {
        let supported: boolean | string;
        try {
          let duplexRead = false;
          const init = {
            method: 'POST',
            body: new ReadableStream(),
            get duplex() {
              duplexRead = true;
              return 'half';
            },
          };
          const typed = new Request(location.href, init).headers.has('content-type');
          supported = duplexRead && !typed;
        } catch (e) {
          supported = `Request threw ${(e as Error).name}`;
        }
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode('part one, '));
            await new Promise((r) => setTimeout(r, 20));
            controller.enqueue(encoder.encode('part two'));
            controller.close();
          },
        });
        try {
          const init = { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'text/plain' } };
          const r = await fetch(`/act?${tag}`, init);
          return { supported, status: r.status, body: await r.text() };
        } catch (e) {
          return { supported, error: (e as Error).name };
        }
      },
      { tag },
    ),
};

export const ACTIONS: Action[] = [
  formAction('form POST, urlencoded', 'urlencoded'),
  formAction('form POST, multipart', 'multipart'),
  fetchAction('fetch POST, string', 'string'),
  fetchAction('fetch POST, Blob', 'blob'),
  fetchAction('fetch POST, FormData', 'formdata'),
  fetchAction('fetch POST, ArrayBuffer', 'arraybuffer'),
  streamBodyAction,
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
  scriptCookieAction,
  sseAction,
  webSocketAction,
  downloadAction,
];
