/**
 * Edge cases of the Connection found while specifying the protocol; each was
 * a bug that broke a whole connection (or leaked) before it was fixed.
 */
import { Connection, FrameType, ProtocolError, type ErrorCode, type Stream } from '@wingman/protocol';
import { connectedPair, tick, waitFor, type Pair } from './pair';
import { createRawPeer, hello, ping, request } from './raw-peer';

function collect(stream: Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('reset', reject);
  });
}

/** Every connection-level error either side emits. */
function connectionErrors(p: Pair): ErrorCode[] {
  const errors: ErrorCode[] = [];
  p.client.on('error', (e) => errors.push(e.code));
  p.server.on('error', (e) => errors.push(e.code));
  return errors;
}

function echoServer(server: Connection): void {
  server.on('stream', (s) => {
    s.on('data', () => {});
    s.on('end', () => {
      s.respond({ status: 200, headers: [] });
      s.write(Buffer.from(s.head.target));
      s.end();
    });
  });
}

let pair: Pair | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

describe('Connection edge cases', () => {
  it('resetting a stream before its REQUEST left sends no RESET and keeps the connection', async () => {
    pair = connectedPair();
    const errors = connectionErrors(pair);
    echoServer(pair.server);
    const aborted = pair.client.open('http', { method: 'GET', target: '/aborted', headers: [] }, { end: true });
    aborted.reset(); // same tick: the REQUEST is still queued
    const ok = pair.client.open('http', { method: 'GET', target: '/ok', headers: [] }, { end: true });
    expect((await collect(ok)).toString()).toBe('/ok');
    expect(errors).toEqual([]);
    expect(pair.client.streamCount).toBe(0);
  });

  it('sends opening frames in stream id order even when a large head does not fit the current message', async () => {
    pair = connectedPair();
    const errors = connectionErrors(pair);
    echoServer(pair.server);
    const cookie = 'c'.repeat(9000);
    const streams: Stream[] = [];
    for (let i = 0; i < 6; i++) {
      // Alternate large and small heads so a small one could slip in front of a large one.
      const headers: Array<[string, string]> = i % 2 === 0 ? [['cookie', cookie]] : [];
      streams.push(pair.client.open('http', { method: 'GET', target: `/${i}`, headers }, { end: true }));
    }
    const bodies = await Promise.all(streams.map(collect));
    expect(bodies.map(String)).toEqual(['/0', '/1', '/2', '/3', '/4', '/5']);
    expect(errors).toEqual([]);
  });

  it("streams opened before the peer's HELLO respect the smaller window it then announces", async () => {
    pair = connectedPair({ server: { initialWindow: 32 * 1024 } });
    const errors = connectionErrors(pair);
    const upload = Buffer.alloc(1024 * 1024, 7);
    pair.server.on('stream', (s) => {
      s.pause(); // a slow reader: credit comes back late, so only the announced window may be in flight
      setTimeout(() => s.resume(), 20);
      void collect(s).then((body) => {
        s.respond({ status: 200, headers: [] });
        s.write(Buffer.from(String(body.length)));
        s.end();
      });
    });
    const s = pair.client.open('http', { method: 'POST', target: '/', headers: [] });
    s.write(upload); // queued before any HELLO arrived
    s.end();
    expect((await collect(s)).toString()).toBe(String(upload.length));
    expect(errors).toEqual([]);
  });

  it('carries an empty WebSocket message (text and binary) without wedging the stream', async () => {
    pair = connectedPair();
    pair.server.on('stream', (s) => {
      s.respond({ status: 101, headers: [] });
      s.on('message', (m, text) => s.sendMessage(text ? `echo:${Buffer.from(m).toString()}` : m));
    });
    const ws = pair.client.open('ws', { method: 'GET', target: '/ws', headers: [] });
    const got: Array<[string, boolean]> = [];
    ws.on('message', (m, text) => got.push([Buffer.from(m).toString(), text]));
    ws.sendMessage('');
    ws.sendMessage(new Uint8Array(0));
    ws.sendMessage('after');
    await waitFor(() => got.length === 3, 'three echoed messages');
    expect(got).toEqual([
      ['echo:', true],
      ['', false],
      ['echo:after', true],
    ]);
  });

  it('lets a stream answer again after respond() rejected a head the wire cannot carry', async () => {
    pair = connectedPair();
    pair.server.on('stream', (s) => {
      s.on('end', () => {
        expect(() => s.respond({ status: 200, headers: [['x', 'a\r\nb']] })).toThrow(ProtocolError);
        s.respond({ status: 502, headers: [] }, { end: true });
      });
    });
    const s = pair.client.open('http', { method: 'GET', target: '/', headers: [] }, { end: true });
    const status = await new Promise<number>((resolve) => s.on('response', (h) => resolve(h.status)));
    expect(status).toBe(502);
  });

  it('sends its HELLO before a GOAWAY when closed at once', () => {
    const p = createRawPeer();
    p.conn.close('ERR_GOING_AWAY', 'not today');
    expect(p.sent.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.GOAWAY]);
    expect(p.closed).toEqual({ error: undefined });
  });

  it('closes with ERR_CONNECTION_LOST when transport.send throws, instead of throwing from the pump', async () => {
    const p = createRawPeer({ sendThrowsFrom: 2 });
    const stream = new Promise<Stream>((resolve) => p.conn.on('stream', resolve));
    p.inject(hello(), request(1, undefined, true));
    const s = await stream;
    const reset = new Promise<string>((resolve) => s.on('reset', (e) => resolve(e.code)));
    s.respond({ status: 200, headers: [] }, { end: true });
    expect(await reset).toBe('ERR_CONNECTION_LOST');
    expect(p.closed?.error?.code).toBe('ERR_CONNECTION_LOST');
  });

  it('sends the finishing frame before a close listener closes the connection, then stops', async () => {
    const p = createRawPeer();
    let stream: Stream | undefined;
    p.conn.on('stream', (s) => {
      stream = s;
      s.on('end', () => {});
      s.on('close', () => p.conn.close()); // runs inside the pump, as the END leaves
    });
    p.inject(hello(), request(1, undefined, true));
    await p.settle();
    const before = p.sent.length;
    stream!.respond({ status: 204, headers: [] }, { end: true });
    await tick();
    expect(p.conn.isClosed).toBe(true);
    // 'close' runs once the message holding the END was handed to the transport:
    // the RESPONSE leaves, then only the GOAWAY that close() sends directly.
    expect(p.sent.slice(before).map((f) => f.type)).toEqual([FrameType.RESPONSE, FrameType.GOAWAY]);
  });

  it('hands the transport messages that do not pin a much larger buffer', async () => {
    const sizes: Array<[number, number]> = [];
    const conn = new Connection({
      role: 'server',
      maxMessageBytes: 64 * 1024,
      transport: { send: (m) => sizes.push([m.byteLength, m.buffer.byteLength]), bufferedAmount: () => 0, close: () => {} },
    });
    conn.receive(hello());
    for (let i = 0; i < 10; i++) {
      conn.receive(ping());
      await tick();
    }
    expect(sizes.length).toBeGreaterThan(1);
    for (const [len, backing] of sizes) expect(backing).toBeLessThanOrEqual(Math.max(2 * len, 64));
  });

  it('rejects ping() with ERR_TIMEOUT when no PONG comes back, and keeps the connection', async () => {
    const p = createRawPeer();
    p.inject(hello());
    await expect(p.conn.ping(20)).rejects.toMatchObject({ code: 'ERR_TIMEOUT', message: 'ERR_TIMEOUT: no PONG within 20 ms' });
    expect(p.sentOfType(FrameType.PING)).toHaveLength(1);
    expect(p.conn.isClosed).toBe(false);
  });

  it('rejects pending pings with the close error when the connection ends', async () => {
    const p = createRawPeer();
    p.inject(hello());
    const pending = p.conn.ping(10_000);
    p.conn.transportClosed();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CONNECTION_LOST' });
  });
});
