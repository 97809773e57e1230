/**
 * How streams end when their connection does, between two real Connections:
 * transport loss, GOAWAY, local limits and local resets.
 */
import { ProtocolError, type Connection, type Stream } from '@wingman/protocol';
import { connectedPair, waitFor, type Pair } from './pair';

/** Records 'reset' codes and 'close' of a stream. */
function watch(stream: Stream, log: string[], name: string): void {
  stream.on('reset', (e) => log.push(`${name} reset ${e.code}`));
  stream.on('close', () => log.push(`${name} close`));
}

function ready(conn: Connection): Promise<void> {
  return new Promise((resolve) => (conn.isReady ? resolve() : conn.once('ready', () => resolve())));
}

/** Opens an HTTP and a WebSocket stream that stay open (the server answers but never ends). */
async function openTwo(pair: Pair, log: string[]): Promise<void> {
  let accepted = 0;
  pair.server.on('stream', (s) => {
    watch(s, log, `server ${s.kind}`);
    s.respond({ status: s.kind === 'ws' ? 101 : 200, headers: [] });
    accepted++;
  });
  watch(pair.client.open('http', { method: 'GET', target: '/', headers: [] }), log, 'client http');
  watch(pair.client.open('ws', { method: 'GET', target: '/ws', headers: [] }), log, 'client ws');
  await waitFor(() => accepted === 2, 'both streams accepted');
}

let pair: Pair | undefined;
afterEach(() => {
  pair?.close();
  pair = undefined;
});

describe('Connection lifecycle', () => {
  it('fails every stream on both sides with ERR_CONNECTION_LOST when the transport closes', async () => {
    pair = connectedPair();
    const log: string[] = [];
    const closes: string[] = [];
    pair.client.on('close', (e) => closes.push(`client ${e?.code}`));
    pair.server.on('close', (e) => closes.push(`server ${e?.code}`));
    await openTwo(pair, log);
    pair.close();
    await waitFor(() => closes.length === 2, 'both connections to close');
    expect(log.sort()).toEqual(
      [
        'client http reset ERR_CONNECTION_LOST',
        'client http close',
        'client ws reset ERR_CONNECTION_LOST',
        'client ws close',
        'server http reset ERR_CONNECTION_LOST',
        'server http close',
        'server ws reset ERR_CONNECTION_LOST',
        'server ws close',
      ].sort(),
    );
    expect(closes.sort()).toEqual(['client ERR_CONNECTION_LOST', 'server ERR_CONNECTION_LOST']);
  });

  it('close() sends GOAWAY: the peer emits "goaway" and "close", streams fail with the code on both sides', async () => {
    pair = connectedPair();
    const log: string[] = [];
    await openTwo(pair, log);
    const peerEvents: string[] = [];
    pair.client.on('goaway', (code, reason) => peerEvents.push(`goaway ${code} ${reason}`));
    pair.client.on('close', (e) => peerEvents.push(`close ${e?.code}`));
    let serverClose: ProtocolError | undefined | 'none' = 'none';
    pair.server.on('close', (e) => (serverClose = e));
    pair.server.close('ERR_GOING_AWAY', 'restarting');
    expect(serverClose).toBeUndefined(); // a plain close carries no error
    await waitFor(() => peerEvents.length === 2, 'the peer to see the GOAWAY');
    expect(peerEvents).toEqual(['goaway ERR_GOING_AWAY restarting', 'close ERR_GOING_AWAY']);
    expect(log.filter((l) => l.includes('reset')).sort()).toEqual([
      'client http reset ERR_GOING_AWAY',
      'client ws reset ERR_GOING_AWAY',
      'server http reset ERR_GOING_AWAY',
      'server ws reset ERR_GOING_AWAY',
    ]);
  });

  it('abandon() ends the connection here without a frame on the transport and without closing it', async () => {
    const wire: string[] = [];
    pair = connectedPair({ tap: (from) => wire.push(from) });
    const log: string[] = [];
    await openTwo(pair, log);
    let closed: ProtocolError | undefined | 'none' = 'none';
    pair.client.on('close', (e) => (closed = e));
    wire.length = 0;
    pair.client.abandon();
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBeUndefined();
    expect(pair.client.isClosed).toBe(true);
    expect(wire).toEqual([]);
    // Only this end knows: the peer's streams stay open (it learns by other means).
    expect(pair.server.isClosed).toBe(false);
    expect(log.sort()).toEqual(['client http close', 'client http reset ERR_GOING_AWAY', 'client ws close', 'client ws reset ERR_GOING_AWAY']);
  });

  it("close() with an error code fails the peer's streams with that code", async () => {
    pair = connectedPair();
    const log: string[] = [];
    await openTwo(pair, log);
    pair.server.close('ERR_INTERNAL', 'bug');
    await waitFor(() => log.filter((l) => l.startsWith('client') && l.includes('reset')).length === 2, 'client streams to fail');
    expect(log.filter((l) => l.startsWith('client') && l.includes('reset')).sort()).toEqual(['client http reset ERR_INTERNAL', 'client ws reset ERR_INTERNAL']);
  });

  it("open() throws ERR_TOO_MANY_STREAMS at the peer's limit and sends nothing; a slot frees when a stream ends", async () => {
    pair = connectedPair({ server: { maxConcurrentStreams: 1 } });
    pair.server.on('stream', (s) => s.on('end', () => s.respond({ status: 204, headers: [] }, { end: true })));
    await ready(pair.client);
    const first = pair.client.open('http', { method: 'GET', target: '/1', headers: [] }, { end: true });
    let caught: unknown;
    try {
      pair.client.open('http', { method: 'GET', target: '/2', headers: [] }, { end: true });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).message).toBe('ERR_TOO_MANY_STREAMS: peer accepts 1 open streams');
    first.on('end', () => {}); // a stream closes once its last item was taken
    await new Promise<void>((resolve) => first.on('close', resolve));
    expect(pair.client.open('http', { method: 'GET', target: '/3', headers: [] }, { end: true }).id).toBe(3);
  });

  it('open() and ping() on a closed connection fail with ERR_GOING_AWAY', async () => {
    pair = connectedPair();
    pair.client.close();
    expect(() => pair!.client.open('http', { method: 'GET', target: '/', headers: [] })).toThrow('ERR_GOING_AWAY: connection is closed');
    await expect(pair.client.ping()).rejects.toMatchObject({ code: 'ERR_GOING_AWAY' });
  });

  it('a local reset() emits only "close" here and "reset" with its code at the peer', async () => {
    pair = connectedPair();
    const log: string[] = [];
    const accepted = new Promise<Stream>((resolve) => pair!.server.on('stream', resolve));
    const s = pair.client.open('http', { method: 'POST', target: '/upload', headers: [] });
    watch(s, log, 'client');
    watch(await accepted, log, 'server');
    s.reset('ERR_CANCEL', 'tab closed');
    await waitFor(() => log.includes('server close'), 'the peer to see the RESET');
    expect(log).toEqual(['client close', 'server reset ERR_CANCEL', 'server close']);
  });
});
