/**
 * Data-channel message size between a Node viewer (@roamhq/wrtc) and the
 * agent's P2P host: the agent announces its cap in its answer
 * (a=max-message-size) and both ends pack frames into messages up to it.
 * Runs inside the loopback-only namespace `npm test` creates.
 */
import { createHash } from 'node:crypto';
import { DATA_CHANNEL_DEFAULT_MESSAGE_BYTES, maxMessageSizeFromSdp } from '@wingman/protocol';
import { connectP2PViewer, type P2PViewer } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { requestOver } from '../../packages/relay-server/src/viewer/request';
import { patternSha256, startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';

jest.setTimeout(120_000);
const MiB = 1024 * 1024;

let app: FixtureApp;
let t: Tunnel;
let v: P2PViewer | undefined;

afterEach(async () => {
  v?.close();
  v = undefined;
  await killAll();
  await app?.close();
});

/** Largest message seen each way on the viewer's channel while it uploads and downloads `bytes`; checks both bodies arrive whole. */
async function largestMessages(bytes: number): Promise<{ sent: number; received: number }> {
  const viewer = v!;
  let sent = 0;
  let received = 0;
  const send = viewer.channel.send.bind(viewer.channel);
  viewer.channel.send = (data: ArrayBuffer) => {
    sent = Math.max(sent, data.byteLength);
    send(data);
  };
  viewer.channel.addEventListener('message', (ev) => {
    if (ev.data instanceof ArrayBuffer) received = Math.max(received, ev.data.byteLength);
  });
  const body = new Uint8Array(bytes).fill(7);
  const up = await requestOver(viewer.connection, {
    method: 'POST',
    target: '/sha',
    headers: [
      ['host', t.host],
      ['content-length', String(bytes)],
    ],
    body,
  });
  expect(JSON.parse((await up.bytes()).toString())).toEqual({ sha: createHash('sha256').update(body).digest('hex'), length: bytes });
  const down = await requestOver(viewer.connection, { method: 'GET', target: `/bytes?n=${bytes}`, headers: [['host', t.host]] });
  const h = createHash('sha256');
  for await (const c of down.chunks()) h.update(c);
  expect(h.digest('hex')).toBe(patternSha256(bytes));
  return { sent, received };
}

describe('P2P data-channel message size', () => {
  it('announces the default cap in the answer and sends messages up to it both ways', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port));
    v = await connectP2PViewer({ url: t.url, timeoutMs: 20_000 });
    expect(maxMessageSizeFromSdp(v.peerConnection.remoteDescription?.sdp ?? '')).toBe(DATA_CHANNEL_DEFAULT_MESSAGE_BYTES);
    expect(await largestMessages(4 * MiB)).toEqual({ sent: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES, received: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES });
  });

  it('holds both ends to a smaller cap set with WINGMAN_P2P_MAX_MESSAGE_BYTES', async () => {
    app = await startFixtureApp();
    t = await startTunnel(String(app.port), { agentEnv: { WINGMAN_P2P_MAX_MESSAGE_BYTES: String(32 * 1024) } });
    v = await connectP2PViewer({ url: t.url, timeoutMs: 20_000 });
    expect(maxMessageSizeFromSdp(v.peerConnection.remoteDescription?.sdp ?? '')).toBe(32 * 1024);
    expect(await largestMessages(4 * MiB)).toEqual({ sent: 32 * 1024, received: 32 * 1024 });
  });
});
