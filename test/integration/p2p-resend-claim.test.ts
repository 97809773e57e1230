/**
 * Of a request sent both over P2P and again over the relay with the same
 * exchange id (x-wingman-exchange: the Service Worker's re-send after its
 * channel failed), the app gets one, whichever copy reaches the agent first.
 * The agent's record is the one arbiter: each copy claims the id before it
 * is forwarded, the P2P host's over IPC. Here the relay copy comes first: the
 * P2P host is frozen (SIGSTOP) with the P2P head already on the wire, the
 * relayed copy is answered by the app, and only then does the host read the
 * P2P head. Real agent and P2P host process, real wrtc viewer in a child
 * process, real app; loopback only.
 */
import { EXCHANGE_HEADER } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { send } from '../helpers/http-client';
import { closeViewersAndProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { p2pHostOf, startTunnel, type Tunnel } from '../helpers/processes';
import { until } from '../helpers/wait';

jest.setTimeout(60_000);

let app: FixtureApp;
let t: Tunnel;

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(() => closeViewersAndProcesses(app));

const ID = 'CCCCCCCCCCCCCCCCCCCCCC';
/** Larger than any message the channel carries besides this request, so its sending is recognised. */
const BODY = Buffer.alloc(3_000, 'o');

describe('a request whose relayed copy reaches the agent before its P2P copy', () => {
  it('reaches the app once: the P2P copy, claimed second, is answered 502 ERR_ALREADY_RECEIVED', async () => {
    const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    const warm = await viewer.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect(warm.header('x-wingman-transport')).toBe('p2p');
    const host = await p2pHostOf(t.agent, viewer.viewerId);
    const channel = await viewer.watchChannel();

    process.kill(host, 'SIGSTOP');
    let p2p: ReturnType<typeof viewer.request>;
    try {
      p2p = viewer.request({
        method: 'POST',
        target: '/echo',
        headers: [
          ['host', t.host],
          [EXCHANGE_HEADER, ID],
        ],
        body: BODY,
      });
      // The P2P copy is on the wire: the viewer sent it onto the channel, which the frozen host does not read.
      await until(async () => (await channel.read()).largestSent >= BODY.length, { timeoutMs: 10_000, what: 'the P2P copy on the channel' });
      const relayed = await send(t.serverPort, t.host, { method: 'POST', path: '/echo', headers: { [EXCHANGE_HEADER]: ID }, body: BODY });
      expect({ status: relayed.status, transport: relayed.headers['x-wingman-transport'], body: relayed.body.toString() }).toEqual({
        status: 200,
        transport: 'relay',
        body: BODY.toString(),
      });
    } finally {
      process.kill(host, 'SIGCONT');
    }

    const r = await p2p;

    expect({ status: r.status, transport: r.header('x-wingman-transport'), error: r.header('x-wingman-error') }).toEqual({
      status: 502,
      transport: 'p2p',
      error: 'ERR_ALREADY_RECEIVED',
    });
    expect(app.requested.filter((p) => p === '/echo')).toHaveLength(1);
  });
});
