/**
 * Priority scheduling over a real P2P connection (docs/PROTOCOL.md
 * §Priority, §Scheduling): while a large download asking for the `bulk`
 * class is under way on a viewer's one data channel, a small response
 * asking for `document` on the same channel is sent by the agent ahead of
 * the bulk frames it has queued: its body arrives whole, with no bulk bytes
 * between its first and last frame, and the download is still mid-way when
 * it completes. Node viewer (@roamhq/wrtc, in a child process of its own:
 * test/helpers/p2p-viewer-process.ts) against the real agent and fixture
 * app; runs inside the loopback-only namespace `npm test` creates.
 */
import { PRIORITY_HEADER, type PriorityClass } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { until, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const BULK_BYTES = 512 * 1024 * 1024;
const DOC_BYTES = 48 * 1024;
/** Small responses asked for in turn while the download runs: every one must come through whole. */
const DOC_REQUESTS = 5;

/** What the test started, stopped after it. */
const started: { app?: FixtureApp } = {};

afterEach(async () => {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await started.app?.close();
  }
});

describe('P2P priority', () => {
  it("sends a document response ahead of a bulk download's queued frames on the same channel", async () => {
    const app = (started.app = await startFixtureApp());
    const t: Tunnel = await startTunnel(String(app.port));
    const viewer = await connectViewerProcess({ url: t.link, channels: 1, peerConnections: 1, timeoutMs: 20_000 });
    const { connections } = await viewer.state();
    expect(connections.length).toBe(1);
    const on = connections[0]!.id;

    // Every frame the viewer's one channel delivers, in order (recorded in the viewer's process by a listener of its own beside the connection's).
    const frames = await viewer.recordFrames();
    const headers = (cls: PriorityClass): Array<[string, string]> => [
      ['host', t.host],
      [PRIORITY_HEADER, cls],
    ];

    const bulk = await viewer.requestStreaming({ method: 'GET', target: `/bytes?n=${BULK_BYTES}`, headers: headers('bulk') }, { on });
    expect(bulk.status).toBe(200);
    // Read in the viewer's process as it comes; reset at the end, which ends this read.
    bulk.drain({ timeoutMs: 120_000 }).catch(() => undefined);
    await until(async () => (await bulk.progress()).bytes >= 8 * 1024 * 1024 || undefined, {
      timeoutMs: 30_000,
      intervalMs: 5,
      what: 'the download under way',
    });

    for (let i = 0; i < DOC_REQUESTS; i++) {
      const doc = await withTimeout(viewer.request({ method: 'GET', target: `/bytes?n=${DOC_BYTES}&doc=${i}`, headers: headers('document') }, { on }), {
        timeoutMs: 30_000,
        what: `document ${i}`,
      });
      expect(doc.status).toBe(200);
      expect(doc.body.length).toBe(DOC_BYTES);
      // The download is mid-way: the document did not wait for it.
      const progress = await bulk.progress();
      expect(progress.streamClosed).toBe(false);
      expect(progress.bytes).toBeLessThan(BULK_BYTES);
      // From its first body frame to its END, nothing of the download came between.
      const run = await frames.run(doc.streamId);
      expect(run.first).toBeGreaterThanOrEqual(0);
      expect({ document: i, bulkFramesBetween: run.between }).toEqual({ document: i, bulkFramesBetween: 0 });
    }
    await bulk.reset('ERR_CANCEL', 'test over');
  });
});
