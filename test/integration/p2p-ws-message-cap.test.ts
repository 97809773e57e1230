/**
 * The agent's WebSocket message cap on the P2P path: a Node viewer
 * (@roamhq/wrtc, in a child process of its own:
 * test/helpers/p2p-viewer-process.ts) opens WebSocket streams over its data
 * channel to the agent's P2P host process, which forwards them to a `ws` app. Runs inside the
 * loopback-only namespace `npm test` creates.
 */
import { closeViewerProcesses, connectViewerProcess, type ViewerProcess, type ViewerStream } from '../helpers/p2p-viewer-process';
import { killAll, startTunnel, type Tunnel } from '../helpers/processes';
import { startWsApp, type WsApp } from '../helpers/ws-app';
import { withTimeout } from '../helpers/wait';

jest.setTimeout(60_000);

const MiB = 1024 * 1024;
/** The agent's default cap. */
const CAP = MiB;
/** Each wait of a test is bounded by this. */
const WAIT_MS = 15_000;

let app: WsApp;
let t: Tunnel;
let viewer: ViewerProcess | undefined;

beforeEach(async () => {
  app = await startWsApp();
  t = await startTunnel(String(app.port));
  viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
});

afterEach(async () => {
  viewer = undefined;
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app.close();
  }
});

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return withTimeout(p, { timeoutMs: WAIT_MS, what });
}

/** Opens a WebSocket stream over the data channel; resolves once the app answered 101. */
async function openWs(target: string): Promise<{ stream: ViewerStream; ended: Promise<string> }> {
  const stream = await viewer!.openStream('ws', { method: 'GET', target, headers: [['host', t.host]] });
  // How the stream ends, `close <code> <reason>` or `reset <code> <message>`, as the viewer's process reports it.
  const ended = stream.ended(WAIT_MS);
  ended.catch(() => undefined); // awaited by the test
  const status = (await within(stream.response(WAIT_MS), `101 for ${target}`)).status;
  expect(status).toBe(101);
  return { stream, ended };
}

async function echoOver(stream: ViewerStream, text: string): Promise<string> {
  await stream.sendMessage(text);
  return new TextDecoder().decode((await within(stream.nextMessage(WAIT_MS), 'echo')).data);
}

describe('P2P WebSocket message cap (agent side)', () => {
  it('resets a viewer message one byte over the cap with ERR_MESSAGE_TOO_LARGE, closes the app with 1009, and keeps the channel serving', async () => {
    const other = await openWs('/echo');
    const { stream, ended } = await openWs(`/sink?n=${CAP + 1}`);
    await stream.sendMessage(new Uint8Array(CAP + 1));
    expect(await within(ended, 'over-cap end')).toMatch(new RegExp(`^reset ERR_MESSAGE_TOO_LARGE .*message over the ${CAP}-byte limit`));
    expect(await app.closeOf('/sink')).toEqual({ path: '/sink', code: 1009, reason: `message over the ${CAP}-byte limit` });
    expect(await echoOver(other.stream, 'still here')).toBe('still here');
  });

  it('closes the viewer stream with 1009 when the app sends a message over the cap', async () => {
    const { ended } = await openWs(`/source?count=1&size=${8 * MiB}`);
    expect(await within(ended, 'over-cap close')).toBe(`close 1009 message over the ${CAP}-byte limit`);
    expect(await app.closeOf('/source')).toEqual({ path: '/source', code: 1009, reason: `message over the ${CAP}-byte limit` });
  });
});
