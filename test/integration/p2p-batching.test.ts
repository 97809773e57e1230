/**
 * The agent's P2P host packs the answers that reach it together into shared
 * data-channel messages: its send pump runs once per event-loop turn, after
 * every I/O callback of the turn, not once per callback. Each send costs the
 * host a synchronous call into wrtc's threads, so a page's burst of small
 * requests (a Vite cold visit: ~330 modules) is answered in a few messages,
 * not one or more per request. Node viewer (@roamhq/wrtc) against the real
 * agent; runs inside the loopback-only namespace `npm test` creates.
 */
import { tailProbeMessage } from '../../packages/protocol/src/transports/tail-probe';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(120_000);

/** Requests in the burst: as a page's module wave, all sent at once. */
const BURST = 64;

let app: FixtureApp;
let t: Tunnel;
let v: P2PViewer | undefined;

afterEach(async () => {
  v?.close();
  v = undefined;
  await killAll();
  await app?.close();
});

describe('P2P host message batching', () => {
  it('answers a burst of small requests in far fewer data-channel messages than requests', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectP2PViewer({ url: t.url, timeoutMs: 20_000 });
    const viewer = v;
    // Once, so the app's keep-alive sockets and the host's code paths are warm.
    await (await requestOver(viewer.connection, { method: 'GET', target: '/hello', headers: [['host', t.host]] })).bytes();

    // Tail-loss probes are not answers: a loaded machine's pauses within the burst add them.
    const probe = Buffer.from(tailProbeMessage());
    let messages = 0;
    viewer.channel.addEventListener('message', (ev) => {
      if (!(ev.data instanceof ArrayBuffer && probe.equals(Buffer.from(ev.data)))) messages++;
    });
    const answers = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const r = await requestOver(viewer.connection, { method: 'GET', target: `/hello?i=${i}`, headers: [['host', t.host]] });
        return `${r.status} ${(await r.bytes()).toString()}`;
      }),
    );
    expect(new Set(answers)).toEqual(new Set(['200 hello GET']));
    // One message per answer (or more) without batching; a handful of turns' worth with it.
    expect(messages).toBeLessThan(BURST / 2);
  });
});
