/**
 * Priority scheduling over a real P2P connection (docs/PROTOCOL.md
 * §Priority, §Scheduling): while a large download asking for the `bulk`
 * class is under way on a viewer's one data channel, a small response
 * asking for `document` on the same channel is sent by the agent ahead of
 * the bulk frames it has queued: its body arrives whole, with no bulk bytes
 * between its first and last frame, and the download is still mid-way when
 * it completes. Node viewer (@roamhq/wrtc) against the real agent and
 * fixture app; runs inside the loopback-only namespace `npm test` creates.
 */
import { decodeFrames, FrameType, PRIORITY_HEADER, type PriorityClass } from '@wingman/protocol';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { until, withTimeout } from '../helpers/wait';

jest.setTimeout(120_000);

const BULK_BYTES = 512 * 1024 * 1024;
const DOC_BYTES = 48 * 1024;
/** Small responses asked for in turn while the download runs: every one must come through whole. */
const DOC_REQUESTS = 5;

/** What the test started, stopped after it. */
const started: { app?: FixtureApp; viewer?: P2PViewer } = {};

afterEach(async () => {
  started.viewer?.close();
  await killAll();
  await started.app?.close();
});

/** A stream frame as it arrived at the viewer, in wire order. */
interface Arrived {
  streamId: number;
  type: FrameType;
  bytes: number;
}

describe('P2P priority', () => {
  it("sends a document response ahead of a bulk download's queued frames on the same channel", async () => {
    const app = (started.app = await startFixtureApp());
    const t: Tunnel = await startTunnel(String(app.port));
    const viewer = (started.viewer = await connectP2PViewer({ url: t.link, channels: 1, peerConnections: 1, timeoutMs: 20_000 }));
    expect(viewer.connections.length).toBe(1);
    const conn = viewer.connections[0]!;

    // Every frame the viewer's one channel delivers, in order (a listener of its own beside the connection's).
    const arrived: Arrived[] = [];
    viewer.channels[0]!.addEventListener('message', (ev: { data: unknown }) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      try {
        for (const f of decodeFrames(new Uint8Array(ev.data)))
          if (f.streamId !== 0) arrived.push({ streamId: f.streamId, type: f.type, bytes: f.payload.length });
      } catch {
        // Not a frame (the channel binding's proof).
      }
    });
    const get = (target: string, cls: PriorityClass) =>
      requestOver(conn, {
        method: 'GET',
        target,
        headers: [
          ['host', t.host],
          [PRIORITY_HEADER, cls],
        ],
      });

    const bulk = await get(`/bytes?n=${BULK_BYTES}`, 'bulk');
    expect(bulk.status).toBe(200);
    let bulkBytes = 0;
    void (async () => {
      for await (const c of bulk.chunks()) bulkBytes += c.byteLength;
    })().catch(() => undefined);
    await until(() => bulkBytes >= 8 * 1024 * 1024 || undefined, { timeoutMs: 30_000, intervalMs: 5, what: 'the download under way' });

    for (let i = 0; i < DOC_REQUESTS; i++) {
      const doc = await get(`/bytes?n=${DOC_BYTES}&doc=${i}`, 'document');
      expect(doc.status).toBe(200);
      const body = await withTimeout(doc.bytes(), { timeoutMs: 30_000, what: `document ${i}` });
      expect(body.length).toBe(DOC_BYTES);
      // The download is mid-way: the document did not wait for it.
      expect(bulk.stream.closed).toBe(false);
      expect(bulkBytes).toBeLessThan(BULK_BYTES);
      // From its first body frame to its END, nothing of the download came between.
      const id = doc.stream.id;
      const first = arrived.findIndex((f) => f.streamId === id && f.type === FrameType.DATA);
      const last = arrived.map((f) => f.streamId).lastIndexOf(id);
      expect(first).toBeGreaterThanOrEqual(0);
      const between = arrived.slice(first, last + 1).filter((f) => f.streamId !== id);
      expect({ document: i, bulkFramesBetween: between.length }).toEqual({ document: i, bulkFramesBetween: 0 });
    }
    bulk.stream.reset('ERR_CANCEL', 'test over');
  });
});
