import { createHash } from 'node:crypto';
import { DEFAULT_MAX_CONCURRENT_STREAMS, Stream } from '@wingman/protocol';
import { connectedPair } from './pair';

function collect(stream: Stream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c) => parts.push(Buffer.from(c)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('reset', reject);
  });
}

describe('Connection', () => {
  it('carries a request and a streamed response body in both directions', async () => {
    const { client, server } = connectedPair();
    server.on('stream', (s) => {
      void collect(s).then((body) => {
        s.respond({ status: 200, headers: [['content-type', 'text/plain']] });
        s.write(new TextEncoder().encode('echo:'));
        s.write(body);
        s.end();
      });
    });
    const s = client.open('http', { method: 'POST', target: '/x?y=1', headers: [['host', 'a']] });
    s.write(new TextEncoder().encode('hello'));
    s.end();
    const head = await new Promise<{ status: number }>((r) => s.on('response', r));
    expect(head.status).toBe(200);
    expect((await collect(s)).toString()).toBe('echo:hello');
  });

  it('moves 8 MiB through a 256 KiB window with equal SHA-256', async () => {
    const { client, server } = connectedPair();
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    server.on('stream', (s) => {
      s.respond({ status: 200, headers: [] });
      let off = 0;
      const pump = () => {
        while (off < big.length) {
          const ok = s.write(big.subarray(off, off + 65536));
          off += 65536;
          if (!ok) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const s = client.open('http', { method: 'GET', target: '/', headers: [] }, { end: true });
    const body = await collect(s);
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('answers PING with PONG and reports a round trip', async () => {
    const { client } = connectedPair();
    const ms = await client.ping(1000);
    expect(ms).toBeGreaterThanOrEqual(0);
  });

  it('carries WebSocket messages larger than the window, text and binary', async () => {
    const { client, server } = connectedPair();
    server.on('stream', (s) => {
      s.respond({ status: 101, headers: [] });
      s.on('message', (d, text) => s.sendMessage(text ? new TextDecoder().decode(d) : d));
    });
    const s = client.open('ws', { method: 'GET', target: '/ws', headers: [] });
    const got: Array<[number, boolean]> = [];
    const done = new Promise<void>((r) =>
      s.on('message', (d, t) => {
        got.push([d.length, t]);
        if (got.length === 2) r();
      }),
    );
    s.sendMessage('hi');
    s.sendMessage(new Uint8Array(1024 * 1024).fill(7));
    await done;
    expect(got).toEqual([
      [2, true],
      [1024 * 1024, false],
    ]);
  });
});

describe('stream slots', () => {
  it('frees a stream slot when both sides ended even if nobody listens for the request end', async () => {
    const { client, server } = connectedPair({ maxConcurrentStreams: 4 });
    // The server answers without ever listening for 'end' of the (empty) request body.
    server.on('stream', (s) => s.respond({ status: 204, headers: [] }, { end: true }));
    for (let i = 0; i < 12; i++) {
      const s = client.open('http', { method: 'GET', target: '/', headers: [] }, { end: true });
      const status = await new Promise<number>((resolve, reject) => {
        s.on('response', (h) => resolve(h.status));
        s.on('reset', reject);
      });
      expect(status).toBe(204);
      await new Promise((r) => setImmediate(r));
    }
    expect(server.streamCount).toBe(0);
  });

  it("reports the stream limit of the peer's HELLO, and the protocol default before it arrives", async () => {
    const { client, server } = connectedPair({ server: { maxConcurrentStreams: 16 } });
    expect(client.peerMaxConcurrentStreams).toBe(DEFAULT_MAX_CONCURRENT_STREAMS);
    await new Promise<void>((resolve) => (client.isReady ? resolve() : client.once('ready', () => resolve())));
    expect(client.peerMaxConcurrentStreams).toBe(16);
    expect(server.peerMaxConcurrentStreams).toBe(DEFAULT_MAX_CONCURRENT_STREAMS);
  });
});
