/**
 * `streamsBeforePeerHello`: a client's streams leave with its own HELLO, as
 * an HTTP/2 client's requests follow its preface (RFC 9113 §3.4), under the
 * protocol defaults until the peer's HELLO says otherwise; without it they
 * wait for that HELLO.
 */
import { DEFAULT_STREAM_WINDOW_BYTES, FrameType, MAX_FRAME_BYTES } from '@wingman/protocol';
import { createRawPeer, hello, windowUpdate } from './raw-peer';

const GET = { method: 'GET', target: '/a', headers: [] };

describe('streams before the peer HELLO', () => {
  it('sends a request right after its HELLO, and is ready before any frame came in', async () => {
    const peer = createRawPeer({ role: 'client', streamsBeforePeerHello: true });
    expect(peer.conn.isReady).toBe(true);
    peer.conn.open('http', GET, { end: true });
    await peer.settle();
    expect(peer.sent.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.REQUEST]);
  });

  it('without the option, holds the request until the peer HELLO arrives', async () => {
    const peer = createRawPeer({ role: 'client' });
    expect(peer.conn.isReady).toBe(false);
    peer.conn.open('http', GET, { end: true });
    await peer.settle();
    expect(peer.sent.map((f) => f.type)).toEqual([FrameType.HELLO]);
    peer.inject(hello());
    await peer.settle();
    expect(peer.sent.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.REQUEST]);
    expect(peer.conn.isReady).toBe(true);
  });

  it('spends at most the default window before the HELLO, and sends the rest once the HELLO grants a larger one', async () => {
    const peer = createRawPeer({ role: 'client', streamsBeforePeerHello: true });
    const stream = peer.conn.open('http', { method: 'POST', target: '/up', headers: [] });
    const body = new Uint8Array(DEFAULT_STREAM_WINDOW_BYTES + 3 * MAX_FRAME_BYTES).fill(1);
    stream.write(body);
    stream.end();
    await peer.settle();
    const dataBytes = () => peer.sentOfType(FrameType.DATA).reduce((n, f) => n + f.payload.length, 0);
    expect(dataBytes()).toBe(DEFAULT_STREAM_WINDOW_BYTES);

    peer.inject(hello({ initialWindow: DEFAULT_STREAM_WINDOW_BYTES * 2 }));
    await peer.settle();
    expect(dataBytes()).toBe(body.length);
    expect(peer.errors).toEqual([]);
  });

  it('a smaller window in the HELLO holds the stream until the peer grants credit', async () => {
    const peer = createRawPeer({ role: 'client', streamsBeforePeerHello: true });
    const stream = peer.conn.open('http', { method: 'POST', target: '/up', headers: [] });
    stream.write(new Uint8Array(DEFAULT_STREAM_WINDOW_BYTES + MAX_FRAME_BYTES).fill(1));
    stream.end();
    await peer.settle();
    const dataBytes = () => peer.sentOfType(FrameType.DATA).reduce((n, f) => n + f.payload.length, 0);
    expect(dataBytes()).toBe(DEFAULT_STREAM_WINDOW_BYTES);

    // The peer grants half the default: what already left overdraws it by that much.
    peer.inject(hello({ initialWindow: DEFAULT_STREAM_WINDOW_BYTES / 2 }));
    await peer.settle();
    expect(dataBytes()).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    peer.inject(windowUpdate(stream.id, DEFAULT_STREAM_WINDOW_BYTES / 2));
    await peer.settle();
    expect(dataBytes()).toBe(DEFAULT_STREAM_WINDOW_BYTES);
    peer.inject(windowUpdate(stream.id, MAX_FRAME_BYTES));
    await peer.settle();
    expect(dataBytes()).toBe(DEFAULT_STREAM_WINDOW_BYTES + MAX_FRAME_BYTES);
    expect(peer.errors).toEqual([]);
  });
});
