/**
 * `leave()`, the Node viewer's goodbye before its process exits (`wingman
 * fetch`): the bye goes over signaling and nothing more goes on the data
 * channels. The agent closes its side on the bye; a frame sent while that
 * teardown reaches the viewer's channel can crash the viewer's process
 * inside @roamhq/wrtc (SIGSEGV in RTCDataChannel::Send), so leave() sends
 * none: not the GOAWAY a close sends, not a tail-loss probe after it. Node
 * viewer against the real agent; runs inside the loopback-only namespace
 * `npm test` creates.
 */
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import { TAIL_PROBE_COUNT, TAIL_PROBE_IDLE_MS } from '../../packages/protocol/src/transports/tail-probe';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel } from '../helpers/processes';

jest.setTimeout(60_000);

let app: FixtureApp;
let v: P2PViewer | undefined;

afterEach(async () => {
  v?.close();
  v = undefined;
  await killAll();
  await app?.close();
});

describe("the Node viewer's leave()", () => {
  it('sends nothing on its data channels once it has said goodbye, and ends its protocol connections', async () => {
    app = await startFixtureApp();
    const t = await startTunnel(String(app.port));
    v = await connectP2PViewer({ url: t.url, peerConnections: 2, timeoutMs: 20_000 });
    const viewer = v;
    await viewer.allSettled;
    const res = await requestOver(viewer.pick(), { method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect(`${res.status} ${(await res.bytes()).toString()}`).toBe('200 hello GET');

    // Every send on every channel of the viewer from here on.
    const sent: string[] = [];
    viewer.peerConnections.forEach((_, i) => {
      for (const dc of viewer.channelsOf(i)) {
        const channel = dc as unknown as { send(data: unknown): void; label: string };
        const send = channel.send.bind(channel);
        channel.send = (data) => {
          sent.push(`${i}/${channel.label}`);
          send(data);
        };
      }
    });
    const connections = viewer.connections.slice();
    expect(connections.length).toBeGreaterThan(1);
    // Right after the request: its tail-loss probes are still due.
    await viewer.leave();
    await new Promise((r) => setTimeout(r, TAIL_PROBE_IDLE_MS + TAIL_PROBE_COUNT * 10));
    expect(sent).toEqual([]);
    expect(connections.every((c) => c.isClosed)).toBe(true);
  });
});
