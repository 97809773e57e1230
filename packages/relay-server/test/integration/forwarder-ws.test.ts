/**
 * The forwarder bridging WebSocket streams of a real in-memory Connection
 * pair to a real `ws` server in the local app.
 */
import type { Connection, Stream } from '@wingman/protocol';
import { createForwarder, type Forwarder } from '../../src/forward';
import { sendableCloseCode } from '../../src/forward/ws-forward';
import { connectedPair } from './helpers/pair';
import { BLOCK, freePort, startLocalApp, type LocalApp } from './helpers/local-app';
import { header, responseOf } from './helpers/viewer';

jest.setTimeout(30_000);

let app: LocalApp;
let forwarder: Forwarder | undefined;
let pair: ReturnType<typeof connectedPair> | undefined;

beforeEach(async () => {
  app = await startLocalApp();
});

afterEach(async () => {
  pair?.close();
  pair = undefined;
  forwarder?.close();
  forwarder = undefined;
  await app.close();
});

function tunnel(port = app.port, timeoutMs?: number): Connection {
  const f = createForwarder({ target: { host: '127.0.0.1', port }, timeoutMs });
  forwarder = f;
  pair = connectedPair();
  pair.server.on('stream', (s) => f.handleStream(s, 'relay'));
  return pair.client;
}

function openWs(conn: Connection, target: string, headers: Array<[string, string]> = []): Stream {
  return conn.open('ws', {
    method: 'GET',
    target,
    headers: [['host', 'abc.localhost:8080'], ['sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['sec-websocket-version', '13'], ...headers],
  });
}

function nextMessages(stream: Stream, count: number): Promise<Array<{ data: Buffer; text: boolean }>> {
  return new Promise((resolve, reject) => {
    const got: Array<{ data: Buffer; text: boolean }> = [];
    stream.on('message', (data, text) => {
      got.push({ data: Buffer.from(data), text });
      if (got.length === count) resolve(got);
    });
    stream.on('reset', reject);
  });
}

describe('forwarder: WebSocket', () => {
  it('echoes text and binary messages, including 1 MiB, with the chosen subprotocol', async () => {
    const stream = openWs(tunnel(), '/ws?room=1', [['sec-websocket-protocol', 'vite-hmr, other']]);
    const head = await responseOf(stream);
    expect(head.status).toBe(101);
    expect(header(head.headers, 'sec-websocket-protocol')).toBe('vite-hmr');
    expect(header(head.headers, 'x-wingman-transport')).toBe('relay');
    const replies = nextMessages(stream, 3);
    stream.sendMessage('hello over the tunnel');
    stream.sendMessage(new Uint8Array([0, 1, 2, 255]));
    stream.sendMessage(BLOCK);
    const [text, bin, big] = await replies;
    expect(text).toEqual({ data: Buffer.from('hello over the tunnel'), text: true });
    expect(bin).toEqual({ data: Buffer.from([0, 1, 2, 255]), text: false });
    expect(big!.text).toBe(false);
    expect(big!.data.equals(BLOCK)).toBe(true);
    const upgrade = app.seen.find((s) => s.method === 'UPGRADE')!;
    expect(upgrade.url).toBe('/ws?room=1');
    expect(upgrade.headers.host).toBe(`127.0.0.1:${app.port}`);
    expect(upgrade.headers['sec-websocket-key']).not.toBe('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it("passes a close from the viewer to the app and the app's answer back", async () => {
    const stream = openWs(tunnel(), '/ws');
    await responseOf(stream);
    const closed = new Promise<[number, string]>((resolve) => stream.on('wsClose', (code, reason) => resolve([code, reason])));
    const finished = new Promise<void>((resolve) => stream.on('close', resolve));
    stream.closeWs(4000, 'viewer done');
    expect(await closed).toEqual([4000, 'viewer done']);
    await finished;
  });

  it("passes the app's close code and reason to the viewer", async () => {
    const stream = openWs(tunnel(), '/ws-close');
    await responseOf(stream);
    const [code, reason] = await new Promise<[number, string]>((resolve) => stream.on('wsClose', (c, r) => resolve([c, r])));
    expect([code, reason]).toEqual([4001, 'bye from app']);
    stream.closeWs(code, reason);
    await new Promise<void>((resolve) => stream.on('close', resolve));
  });

  it("passes the app's refusal of the upgrade on as the response status", async () => {
    const stream = openWs(tunnel(), '/ws-refuse');
    const head = await responseOf(stream);
    expect(head.status).toBe(403);
    expect(header(head.headers, 'x-refused')).toBe('yes');
    expect(header(head.headers, 'x-wingman-transport')).toBe('relay');
  });

  it('answers 502 when nothing listens on the target', async () => {
    const stream = openWs(tunnel(await freePort()), '/ws');
    const head = await responseOf(stream);
    expect(head.status).toBe(502);
    expect(header(head.headers, 'x-wingman-transport')).toBe('relay');
  });

  it('terminates the local socket when the viewer resets the stream', async () => {
    const stream = openWs(tunnel(), '/ws');
    await responseOf(stream);
    expect(app.wsOpen()).toBe(1);
    stream.reset('ERR_CANCEL');
    await app.waitForNoWebSockets();
    expect(app.wsOpen()).toBe(0);
  });

  it('maps close codes that must not be sent to 1000', () => {
    expect([1000, 1001, 1005, 1006, 1015, 4001, 999, 5000].map(sendableCloseCode)).toEqual([1000, 1001, 1000, 1000, 1000, 4001, 1000, 1000]);
  });
});
