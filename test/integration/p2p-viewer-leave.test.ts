/**
 * The Node viewer's leave() (its goodbye before its process exits:
 * `wingman fetch`) sends the bye over signaling and nothing more on its
 * channel: the agent closes its side on the bye, and a frame sent while
 * that teardown reaches the viewer's channel can crash the viewer's process
 * inside @roamhq/wrtc (SIGSEGV in RTCDataChannel::Send). Node viewer
 * (@roamhq/wrtc, in a child process of its own:
 * test/helpers/p2p-viewer-process.ts, which records the channel's sends
 * there) against the real agent; runs inside the loopback-only namespace
 * `npm test` creates.
 */
import { TAIL_PROBE_COUNT, TAIL_PROBE_IDLE_MS } from '../../packages/protocol/src/transports/tail-probe';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { expectNoEventWithin } from '../helpers/wait';

jest.setTimeout(120_000);

let app: FixtureApp;
let t: Tunnel;

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app?.close();
  }
});

describe("the viewer's leave()", () => {
  it('sends nothing on its channel once it has said goodbye, and ends its protocol connection', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });

    // Right after the request, in the same turn of the viewer's process: its tail-loss probes are still due. Every send on
    // the viewer's channel from the request's end on is reported by that process.
    const { response, sent } = await viewer.requestThenLeave({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect(`${response.status} ${response.body.toString()}`).toBe('200 hello GET');
    // Long enough for every tail-loss probe of that request to have gone out.
    await expectNoEventWithin(viewer.events, 'channel-send', {
      windowMs: TAIL_PROBE_IDLE_MS + TAIL_PROBE_COUNT * 10,
      what: 'a send on the channel after leave()',
    });
    expect(sent).toEqual([]);
    expect((await viewer.state()).connection.isClosed).toBe(true);
  });
});
