/**
 * A stock Tornado WebSocket through Wingman: Tornado's default
 * `WebSocketHandler.check_origin` accepts a handshake only when its Origin
 * names the Host the app was sent. With the Host rewritten to the app's
 * (the default) the forwarder moves Origin with it, so the socket opens and
 * echoes over P2P and over the Service Worker's relay in Chromium and
 * Firefox, and over the relay in WebKit, as it does straight against the app
 * in the same browser.
 */
import { killAll, startAgent, startServer, type Proc } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { useEnginePair, WEBRTC_ENGINES } from './helpers/engines';
import { inPage, waitForApp, waitForTransport, WAIT_MS, type AnyFrame, type AnyPage } from './support/shell';
import type { PythonServer } from './support/python-server';
import { startTornado } from './support/tornado';
import { shellAppFrame, useWebKit } from './support/webkit-stack';

jest.setTimeout(180_000);

/** A WebSocket answer on loopback comes within milliseconds; 10 s covers a loaded machine. */
const ECHO_WAIT_MS = 10_000;

/** Opens a WebSocket to /echo from `target`, sends "hi": the answer, or how the socket ended without one. */
function echoFrom(target: AnyPage | AnyFrame): Promise<string> {
  return inPage(
    target,
    (waitMs) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/echo`);
        const timer = setTimeout(() => resolve('no answer'), waitMs);
        ws.onopen = () => ws.send('hi');
        ws.onmessage = (e) => {
          clearTimeout(timer);
          resolve(String(e.data));
          ws.close();
        };
        ws.onclose = (e) => {
          clearTimeout(timer);
          resolve(`closed ${e.code}`);
        };
      }),
    ECHO_WAIT_MS,
  );
}

describe('stock Tornado WebSocket (default check_origin) through Wingman', () => {
  let tornado: PythonServer;
  let origin: string;
  let agent: Proc;

  beforeAll(async () => {
    tornado = await startTornado();
    const { port } = await startServer({ LOG_LEVEL: 'warn' });
    const started = await startAgent(`http://localhost:${port}`, String(tornado.port));
    agent = started.agent;
    origin = `http://${started.sessionId}.localhost:${port}`;
  });

  afterAll(async () => {
    await killAll();
    await tornado?.close();
  });

  /** The next `/echo` handshake in the agent's request log after its `from`th event (the P2P host's lines arrive over IPC, after the response). */
  const echoLogged = (from: number) =>
    until(
      () =>
        agent.events
          .slice(from)
          .filter((e) => e.event === 'request' && e.target === '/echo')
          .map((e) => ({ status: e.status, transport: e.transport }))[0],
      { timeoutMs: WAIT_MS, intervalMs: 20, what: "the agent's log line of the /echo handshake" },
    );

  describe.each(WEBRTC_ENGINES)('in %s', (engine) => {
    const engines = useEnginePair(engine);

    it('echoes straight against the app (the reference)', async () => {
      await engines.browser.page.goto(`http://127.0.0.1:${tornado.port}/`);
      expect(await echoFrom(engines.browser.page)).toBe('echo:hi');
    });

    it.each([
      ['P2P', 'p2p'],
      ['the Service Worker relay', 'relay'],
    ] as const)('echoes through the shell over %s, as straight against the app', async (_name, transport) => {
      const page = engines.pageFor(transport);
      await page.goto(`${origin}/`);
      const frame = await waitForApp(page as Parameters<typeof waitForApp>[0], 'tornado');
      await waitForTransport(page, transport);
      const logged = agent.events.length;
      expect(await echoFrom(frame)).toBe('echo:hi');
      expect(await echoLogged(logged)).toEqual({ status: 101, transport });
    });
  });

  describe('in WebKit (no WebRTC: the Service Worker relay)', () => {
    const env = useWebKit();

    it('echoes straight against the app, and through the shell over the relay, alike', async () => {
      const page = env.webkit.page;
      await page.goto(`http://127.0.0.1:${tornado.port}/`);
      const direct = await echoFrom(page);
      expect(direct).toBe('echo:hi');

      await page.goto(`${origin}/`);
      await waitForTransport(page, 'relay', /WebRTC/i);
      const frame = await shellAppFrame(page);
      const logged = agent.events.length;
      expect(await echoFrom(frame)).toBe(direct);
      expect(await echoLogged(logged)).toEqual({ status: 101, transport: 'relay' });
    });
  });
});
