/**
 * The agent's P2P host packs the answers that reach it together into shared
 * data-channel messages: its send pump runs once per event-loop turn, after
 * every I/O callback of the turn, not once per callback. Each send costs the
 * host a synchronous call into wrtc's threads, so a page's burst of small
 * requests (a Vite cold visit: ~330 modules) is answered in a few messages,
 * not one or more per request. Node viewer (@roamhq/wrtc, in a child process
 * of its own: test/helpers/p2p-viewer-process.ts) against the real agent;
 * runs inside the loopback-only namespace `npm test` creates.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(120_000);

/** Requests in the burst: as a page's module wave, all sent at once. */
const BURST = 64;

let app: FixtureApp;
let t: Tunnel;
let v: ViewerProcess | undefined;

afterEach(async () => {
  v = undefined;
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app?.close();
  }
});

describe('P2P host message batching', () => {
  it('answers a burst of small requests in far fewer data-channel messages than requests', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    const viewer = v;
    // Once, so the app's keep-alive sockets and the host's code paths are warm.
    await viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });

    // Counted in the viewer's process; tail-loss probes are not answers (a loaded machine's pauses within the burst add them).
    const watch = await viewer.watchChannel();
    // All opened in one turn of the viewer's process, as a page's wave.
    const answers = (
      await viewer.requestBurst(Array.from({ length: BURST }, (_, i) => ({ method: 'GET', target: `/hello?i=${i}`, headers: [['host', t.host]] })))
    ).map((r) => `${r.status} ${r.body.toString()}`);
    expect(new Set(answers)).toEqual(new Set(['200 hello GET']));
    // One message per answer (or more) without batching; a handful of turns' worth with it.
    expect((await watch.read()).messages).toBeLessThan(BURST / 2);
  });
});
