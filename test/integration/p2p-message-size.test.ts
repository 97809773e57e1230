/**
 * Data-channel message size between a Node viewer (@roamhq/wrtc, in a child
 * process of its own: test/helpers/p2p-viewer-process.ts) and the agent's P2P
 * host: the agent announces its cap in its answer
 * (a=max-message-size) and both ends pack frames into messages up to it.
 * Runs inside the loopback-only namespace `npm test` creates.
 */
import { createHash } from 'node:crypto';
import { DATA_CHANNEL_DEFAULT_MESSAGE_BYTES, maxMessageSizeFromSdp } from '@wingman/protocol';
import { patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewerProcesses, connectViewerProcess, type ViewerProcess } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(120_000);
const MiB = 1024 * 1024;

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

/** Largest message seen each way on the viewer's channel while it uploads and downloads `bytes`; checks both bodies arrive whole. */
async function largestMessages(bytes: number): Promise<{ sent: number; received: number }> {
  const viewer = v!;
  // The viewer's process watches its channel: the largest message each way.
  const watch = await viewer.watchChannel();
  const body = new Uint8Array(bytes).fill(7);
  const up = await viewer.request({
    method: 'POST',
    target: '/sha',
    headers: [
      ['host', t.host],
      ['content-length', String(bytes)],
    ],
    body,
  });
  expect(JSON.parse(up.body.toString())).toEqual({ sha: createHash('sha256').update(body).digest('hex'), length: bytes });
  const down = await viewer.requestDigest({ method: 'GET', target: `/bytes?n=${bytes}`, headers: [['host', t.host]] });
  expect(down.sha256).toBe(patternSha256(bytes));
  const { largestSent, largestReceived } = await watch.read();
  return { sent: largestSent, received: largestReceived };
}

describe('P2P data-channel message size', () => {
  it('announces the default cap in the answer and sends messages up to it both ways', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    expect(maxMessageSizeFromSdp((await v.state()).peerConnection.remoteSdp)).toBe(DATA_CHANNEL_DEFAULT_MESSAGE_BYTES);
    expect(await largestMessages(4 * MiB)).toEqual({ sent: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES, received: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES });
  });

  it('holds both ends to a smaller cap set with WINGMAN_P2P_MAX_MESSAGE_BYTES', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { agentEnv: { WINGMAN_P2P_MAX_MESSAGE_BYTES: String(32 * 1024) } });
    v = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    expect(maxMessageSizeFromSdp((await v.state()).peerConnection.remoteSdp)).toBe(32 * 1024);
    expect(await largestMessages(4 * MiB)).toEqual({ sent: 32 * 1024, received: 32 * 1024 });
  });
});
