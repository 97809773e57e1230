/**
 * Real frameworks' defaults through Wingman, each as a reviewer uses it:
 * Flask (Debian `python3-flask`) with its signed session cookie, and Express
 * with `helmet()`'s default headers (a CSP with `script-src 'self'` and
 * `frame-ancestors 'self'`, COOP, CORP, X-Frame-Options SAMEORIGIN) and with
 * a nonce-only `'strict-dynamic'` CSP. Each runs in Chromium and Firefox
 * over P2P and over the Service Worker's relay, and in WebKit over
 * the relay (it has no WebRTC here); the result in the page is the one the
 * same browser gets straight from the app (in WebKit, helmet()'s
 * `upgrade-insecure-requests` keeps the page's script from loading over
 * plain http, direct and through Wingman alike).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import helmet from 'helmet';
import { killAll, startAgent, startCommand, startServer, type Proc } from '../../../../test/helpers/processes';
import { freePort } from '../../../../test/helpers/redis';
import { until } from '../../../../test/helpers/wait';
import { useEnginePairs, WEBRTC_ENGINES } from './helpers/engines';
import { DJANGO_PYTHON } from './support/django';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import { shellAppFrame, useWebKit } from './support/webkit-stack';

jest.setTimeout(180_000);

/** Flask's app: a counter kept in its session cookie (signed, HttpOnly). */
const FLASK_APP = `
from flask import Flask, session
app = Flask(__name__)
app.secret_key = b'wingman-test-secret'

@app.route('/count')
def count():
    session['n'] = session.get('n', 0) + 1
    return '<!doctype html><meta charset="utf-8"><p id="n">%d</p><script>window.pageName = "count";</script>' % session['n']

if __name__ == '__main__':
    import sys
    app.run(host='127.0.0.1', port=int(sys.argv[1]))
`;

/** Express pages: one under helmet()'s defaults, one under a nonce-only strict-dynamic CSP; each script reports that it ran. */
function startExpress(): Promise<Server> {
  const app = express();
  app.use('/helmet', helmet());
  app.get('/helmet/page', (_req, res) => {
    res.type('html').send('<!doctype html><meta charset="utf-8"><h1>helmet</h1><script src="/helmet/app.js"></script>');
  });
  app.get('/helmet/app.js', (_req, res) => {
    res.type('js').send('window.pageName = "helmet"; window.wsIsShim = !/\\[native code\\]/.test(String(WebSocket));');
  });
  app.get('/api/echo', (req, res) => res.json({ ok: true, origin: req.headers.origin ?? null }));
  app.get('/strict/page', (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('content-security-policy', `script-src 'nonce-${nonce}' 'strict-dynamic'; object-src 'none'; base-uri 'none'`);
    res
      .type('html')
      .send(
        `<!doctype html><meta charset="utf-8"><h1>strict</h1><script nonce="${nonce}">window.pageName = "strict"; window.wsIsShim = !/\\[native code\\]/.test(String(WebSocket));</script>`,
      );
  });
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('framework defaults through Wingman', () => {
  // Launched from the start: the Firefox pair starts while the app, the tunnel server and Chromium's tests run.
  const pairs = useEnginePairs(WEBRTC_ENGINES);
  let flask: Proc;
  let flaskPort: number;
  let flaskDir: string;
  let expressServer: Server;
  let flaskOrigin: string;
  /** The agent sharing the Flask app: its request log says how each exchange ended. */
  let flaskAgent: Proc;
  let expressOrigin: string;

  beforeAll(async () => {
    flaskDir = mkdtempSync(join(tmpdir(), 'wingman-flask-'));
    writeFileSync(join(flaskDir, 'app.py'), FLASK_APP);
    flaskPort = await freePort();
    expressServer = await startExpress();
    flask = startCommand(DJANGO_PYTHON, [join(flaskDir, 'app.py'), String(flaskPort)], { PYTHONDONTWRITEBYTECODE: '1' });
    // Flask's start, the tunnel server and the two agents overlap: an agent needs its app only once a request comes,
    // and no request comes before this beforeAll ends (afterAll ends what started, whatever failed).
    const started = await Promise.allSettled([
      flask.waitForLine(/Running on/, { timeoutMs: 30_000, stream: 'both' }).catch((err: Error) => {
        throw new Error(`Flask did not start (install Debian's Flask: apt-get install python3-flask): ${err.message}`);
      }),
      (async () => {
        const { port } = await startServer({ LOG_LEVEL: 'warn' });
        const [f, e] = await Promise.all([
          startAgent(`http://localhost:${port}`, String(flaskPort)),
          startAgent(`http://localhost:${port}`, String((expressServer.address() as AddressInfo).port)),
        ]);
        flaskAgent = f.agent;
        flaskOrigin = `http://${f.sessionId}.localhost:${port}`;
        expressOrigin = `http://${e.sessionId}.localhost:${port}`;
      })(),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  });

  afterAll(async () => {
    await killAll();
    await new Promise((resolve) => expressServer?.close(resolve));
    rmSync(flaskDir, { recursive: true, force: true });
  });

  /** Loads `url` three times in `page` (through the shell when `shell`); the counter Flask showed each time. */
  async function countThrice(page: AnyPage, url: string, shell: boolean): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(url);
      const target = shell ? await waitForApp(page as Parameters<typeof waitForApp>[0], 'count') : page;
      if (!shell) await inPage(page, () => new Promise((r) => (document.readyState === 'complete' ? r(0) : addEventListener('load', r))), undefined);
      seen.push(await inPage(target, () => document.getElementById('n')?.textContent ?? '', undefined));
    }
    return seen;
  }

  /** Opens an Express page in the shell and reports what its script saw, and a same-origin fetch from it once the shell is on `transport`. */
  async function expressPage(page: AnyPage, path: string, name: string, transport: 'p2p' | 'relay') {
    await page.goto(`${expressOrigin}${path}`);
    const frame = await waitForApp(page as Parameters<typeof waitForApp>[0], name);
    await waitForTransport(page, transport);
    return inPage(
      frame,
      async () => {
        const r = await fetch('/api/echo');
        return { shim: (window as unknown as { wsIsShim: boolean }).wsIsShim, status: r.status, transport: r.headers.get('x-wingman-transport') };
      },
      undefined,
    );
  }

  describe.each(WEBRTC_ENGINES)('in %s', (engine) => {
    const engines = pairs.pair(engine);

    it("keeps Flask's session cookie straight against the app (the reference)", async () => {
      expect(await countThrice(engines.browser.page, `http://127.0.0.1:${flaskPort}/count`, false)).toEqual(['1', '2', '3']);
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)("keeps Flask's session cookie over %s", async (_name, transport) => {
      const page = engines.pageFor(transport);
      await page.goto(`${flaskOrigin}/count`);
      // The first visit counts 1 once its frame has loaded: leaving before then can cut its request off before the app.
      const first = await waitForApp(page as Parameters<typeof waitForApp>[0], 'count');
      expect(await inPage(first, () => document.getElementById('n')?.textContent ?? '', undefined)).toBe('1');
      await waitForTransport(page, transport);
      const logged = flaskAgent.events.length;
      expect(await countThrice(page, `${flaskOrigin}/count`, true)).toEqual(['2', '3', '4']);
      // Each navigation reached the app once: none went first through the channel of the page being left,
      // cut off as it unloaded, and then again over the relay (the counter survives that only while the
      // cut-off answer's cookie is lost with it).
      const cutOff = flaskAgent.events.slice(logged).filter((e) => e.event === 'request' && e.target === '/count' && e.error !== undefined);
      expect(cutOff).toEqual([]);
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)("runs an Express app under helmet()'s defaults and under a nonce-only strict-dynamic CSP over %s", async (_name, transport) => {
      const page = engines.pageFor(transport);
      expect(await expressPage(page, '/helmet/page', 'helmet', transport)).toEqual({ shim: true, status: 200, transport });
      expect(await expressPage(page, '/strict/page', 'strict', transport)).toEqual({ shim: true, status: 200, transport });
    });
  });

  /** Once `target`'s document has loaded (its scripts ran or failed): its heading and whether its script ran. */
  async function loadedPage(target: AnyPage | AnyFrame): Promise<{ h1: string | null; pageName: string | null }> {
    let last: unknown;
    return until(
      async () => {
        last = await inPage(
          target,
          () => ({
            state: document.readyState,
            h1: document.querySelector('h1')?.textContent ?? null,
            pageName: (window as unknown as { pageName?: string }).pageName ?? null,
          }),
          undefined,
        ).catch((e: Error) => e.message);
        const s = last as { state?: string; h1: string | null; pageName: string | null };
        return s.state === 'complete' && s.h1 !== null ? { h1: s.h1, pageName: s.pageName } : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the page to load', observe: () => last },
    );
  }

  describe('in WebKit (no WebRTC: the Service Worker relay)', () => {
    const env = useWebKit();

    it("keeps Flask's session cookie straight against the app (the reference) and over the relay", async () => {
      const page = env.webkit.page;
      expect(await countThrice(page, `http://127.0.0.1:${flaskPort}/count`, false)).toEqual(['1', '2', '3']);
      await page.goto(`${flaskOrigin}/count`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      expect(await countThrice(page, `${flaskOrigin}/count`, true)).toEqual(['2', '3', '4']);
    });

    it("shows an Express page under helmet()'s defaults as it does direct, and runs one under a nonce-only strict-dynamic CSP, over the relay", async () => {
      const page = env.webkit.page;
      // helmet()'s CSP has upgrade-insecure-requests, and WebKit (unlike Chromium and Firefox) upgrades
      // http://localhost and 127.0.0.1 too: on plain http the page's script does not load, straight
      // against the app as through Wingman. The page itself shows, alike.
      await page.goto(`http://127.0.0.1:${(expressServer.address() as AddressInfo).port}/helmet/page`);
      const direct = await loadedPage(page);
      expect(direct).toEqual({ h1: 'helmet', pageName: null });
      await page.goto(`${expressOrigin}/helmet/page`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      const frame = await shellAppFrame(page);
      expect(await loadedPage(frame)).toEqual(direct);

      expect(await expressPage(page, '/strict/page', 'strict', 'relay')).toEqual({ shim: true, status: 200, transport: 'relay' });
    });
  });
});
