/**
 * Connection-level and stream-level rejections, driven by raw frames from a
 * hand-rolled peer against one real Connection: the coded error, the frame
 * the connection answers with (GOAWAY or RESET), and that unrelated streams
 * keep working.
 */
import { decodeCodeReason, FrameType, MAX_WS_MESSAGE_BYTES, MAX_PAYLOAD_BYTES, Flag, type Stream } from '@wingman/protocol';
import { codeOf, createRawPeer, data, GET, goaway, hello, ping, request, reset, response, windowUpdate, wsClose, wsMessage, wsOpen } from './raw-peer';

/** Responds 200 to every stream the peer opens and answers its body with "ok" once it ends. */
function answerEveryStream(stream: Stream): void {
  stream.on('data', () => {});
  stream.on('end', () => {
    stream.respond({ status: 200, headers: [] });
    stream.write(new TextEncoder().encode('ok'));
    stream.end();
  });
}

describe('Connection rejects, as a connection error (GOAWAY)', () => {
  it('a first frame that is not HELLO, with ERR_HELLO_EXPECTED, after sending its own HELLO', async () => {
    const p = createRawPeer();
    p.inject(ping());
    await p.settle();
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_HELLO_EXPECTED']);
    expect(p.errors[0]!.message).toBe('ERR_HELLO_EXPECTED: first frame is type 0x9, not HELLO');
    expect(p.sent.map((f) => f.type)).toEqual([FrameType.HELLO, FrameType.GOAWAY]);
    expect(codeOf(p.sent[1]!)).toBe('ERR_HELLO_EXPECTED');
    expect(p.transportClosed).toBe(true);
    expect(p.closed?.error?.code).toBe('ERR_HELLO_EXPECTED');
    expect(p.conn.isClosed).toBe(true);
  });

  it('a HELLO of another version, with ERR_UNSUPPORTED_VERSION', async () => {
    const p = createRawPeer();
    await p.settle();
    p.inject(hello({ version: 9 }));
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_UNSUPPORTED_VERSION']);
    expect(codeOf(p.sentOfType(FrameType.GOAWAY)[0]!)).toBe('ERR_UNSUPPORTED_VERSION');
  });

  it('a PING flood from a peer that does not read, with ERR_FLOOD once more than MAX_QUEUED_CONTROL_FRAMES PONGs wait', () => {
    const p = createRawPeer({ transportFull: true });
    const pings = Array.from({ length: 1000 }, () => ping());
    // Its own HELLO waits in the queue too: HELLO + 9 999 PONGs = 10 000, the limit itself, is allowed.
    p.inject(hello(), ...pings.slice(1));
    for (let i = 0; i < 9 && p.errors.length === 0; i++) p.inject(...pings);
    expect(p.errors).toEqual([]);
    p.inject(ping());
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_FLOOD']);
    expect(codeOf(p.sentOfType(FrameType.GOAWAY)[0]!)).toBe('ERR_FLOOD');
    expect(p.transportClosed).toBe(true);
  });

  it('no ERR_FLOOD for a peer that reads its PONGs, however many PINGs it sends', async () => {
    const p = createRawPeer();
    p.inject(hello());
    const pings = Array.from({ length: 1000 }, () => ping());
    for (let i = 0; i < 30; i++) {
      p.inject(...pings);
      await p.settle();
    }
    expect(p.errors).toEqual([]);
    expect(p.sentOfType(FrameType.PONG)).toHaveLength(30_000);
  });

  it('a second HELLO, with ERR_PROTOCOL', () => {
    const p = createRawPeer();
    p.inject(hello(), hello());
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_PROTOCOL']);
  });

  it('a stream opened with the wrong parity, with ERR_INVALID_STREAM_ID', () => {
    const p = createRawPeer(); // role 'server': the peer (client) opens odd ids
    p.inject(hello(), request(2));
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_INVALID_STREAM_ID']);
    expect(p.errors[0]!.message).toMatch(/peer opened stream 2/);
    expect(codeOf(p.sentOfType(FrameType.GOAWAY)[0]!)).toBe('ERR_INVALID_STREAM_ID');
  });

  it('a stream id reused or lower than the last one, with ERR_INVALID_STREAM_ID', () => {
    for (const second of [5, 3]) {
      const p = createRawPeer();
      const opened: number[] = [];
      p.conn.on('stream', (s) => opened.push(s.id));
      p.inject(hello(), request(5));
      p.inject(request(second));
      expect(opened).toEqual([5]);
      expect(p.errors.map((e) => e.code)).toEqual(['ERR_INVALID_STREAM_ID']);
    }
  });

  it('a frame for a stream that was never opened (idle), with ERR_INVALID_STREAM_ID', () => {
    const p = createRawPeer();
    p.inject(hello(), data(7, 1));
    expect(p.errors[0]!.message).toBe('ERR_INVALID_STREAM_ID: frame type 0x3 for idle stream 7');
  });

  it('a malformed RESET payload, with ERR_INVALID_PAYLOAD', () => {
    const p = createRawPeer();
    p.inject(hello(), request(1));
    p.inject(Uint8Array.of(FrameType.RESET, 0, 0, 1, 0, 0, 0, 1, 0));
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_INVALID_PAYLOAD']);
  });

  it('a PING whose payload is not 8 bytes, with ERR_INVALID_PAYLOAD', () => {
    const p = createRawPeer();
    p.inject(hello(), ping(new Uint8Array(7)));
    expect(p.errors.map((e) => e.code)).toEqual(['ERR_INVALID_PAYLOAD']);
  });

  it('every later message once closed, without a second error', () => {
    const p = createRawPeer();
    p.inject(ping());
    p.inject(hello());
    p.inject(ping());
    expect(p.errors).toHaveLength(1);
  });
});

describe('Connection resets only the offending stream (RESET)', () => {
  it(`refuses a stream beyond maxConcurrentStreams with ERR_TOO_MANY_STREAMS while the others complete`, async () => {
    const p = createRawPeer({ maxConcurrentStreams: 2 });
    const opened: number[] = [];
    p.conn.on('stream', (s) => {
      opened.push(s.id);
      answerEveryStream(s);
    });
    p.inject(hello(), request(1), request(3), request(5, GET, true));
    await p.settle();
    expect(opened).toEqual([1, 3]);
    const resets = p.sentOfType(FrameType.RESET);
    expect(resets.map((f) => [f.streamId, codeOf(f)])).toEqual([[5, 'ERR_TOO_MANY_STREAMS']]);
    expect(decodeCodeReason(resets[0]!.payload).reason).toBe('at most 2 open streams');
    p.inject(data(5, 3)); // crossing frames for the refused stream are ignored
    p.inject(data(1, 0, true), data(3, 0, true));
    await p.settle();
    expect(p.sentOfType(FrameType.RESPONSE).map((f) => f.streamId)).toEqual([1, 3]);
    expect(
      p
        .sentOfType(FrameType.DATA)
        .filter((f) => f.flags & Flag.END_STREAM)
        .map((f) => f.streamId),
    ).toEqual([1, 3]);
    // Both finished, so a new stream fits again.
    p.inject(request(7, GET, true));
    expect(opened).toEqual([1, 3, 7]);
    expect(p.errors).toEqual([]);
  });

  it('resets a stream whose DATA overruns the window with ERR_FLOW_CONTROL; a second stream still completes', async () => {
    const window = MAX_PAYLOAD_BYTES * 2;
    const p = createRawPeer({ initialWindow: window });
    const failures: Array<[number, string]> = [];
    p.conn.on('stream', (s) => {
      if (s.id === 1) s.pause(); // reads nothing, so no credit returns
      s.on('reset', (e) => failures.push([s.id, e.code]));
      answerEveryStream(s);
    });
    p.inject(hello(), request(1), request(3));
    p.inject(data(1, MAX_PAYLOAD_BYTES), data(1, MAX_PAYLOAD_BYTES)); // exactly the window: fine
    expect(failures).toEqual([]);
    p.inject(data(1, 1));
    p.inject(data(3, 5, true));
    await p.settle();
    expect(failures).toEqual([[1, 'ERR_FLOW_CONTROL']]);
    expect(p.sentOfType(FrameType.RESET).map((f) => [f.streamId, codeOf(f)])).toEqual([[1, 'ERR_FLOW_CONTROL']]);
    expect(p.sentOfType(FrameType.RESPONSE).map((f) => f.streamId)).toEqual([3]);
    expect(p.conn.isClosed).toBe(false);
  });

  it('resets a stream that sends DATA after END_STREAM with ERR_STREAM_CLOSED', async () => {
    const p = createRawPeer();
    const failures: string[] = [];
    p.conn.on('stream', (s) => s.on('reset', (e) => failures.push(e.message)));
    p.inject(hello(), request(1, GET, true)); // half-closed (remote): this side has not answered yet
    p.inject(data(1, 1));
    await p.settle();
    expect(failures).toEqual(['ERR_STREAM_CLOSED: DATA after END_STREAM']);
    expect(p.sentOfType(FrameType.RESET).map(codeOf)).toEqual(['ERR_STREAM_CLOSED']);
  });

  it('resets a WebSocket as soon as its fragments pass a configured maxWsMessageBytes, naming the limit', async () => {
    const limit = 40_000;
    const p = createRawPeer({ maxWsMessageBytes: limit });
    const got: string[] = [];
    p.conn.on('stream', (s) => {
      s.respond({ status: 101, headers: [] });
      s.on('message', (m) => got.push(`message ${m.length}`));
      s.on('reset', (e) => got.push(e.code));
    });
    p.inject(hello(), wsOpen(1));
    // Exactly the limit passes as one message of three fragments.
    p.inject(
      wsMessage(1, new Uint8Array(MAX_PAYLOAD_BYTES), Flag.MORE),
      wsMessage(1, new Uint8Array(MAX_PAYLOAD_BYTES), Flag.MORE),
      wsMessage(1, new Uint8Array(limit - 2 * MAX_PAYLOAD_BYTES)),
    );
    await p.settle();
    expect(got).toEqual([`message ${limit}`]);
    // One byte more is refused on the fragment that crosses it, before the message ends.
    p.inject(
      wsMessage(1, new Uint8Array(MAX_PAYLOAD_BYTES), Flag.MORE),
      wsMessage(1, new Uint8Array(MAX_PAYLOAD_BYTES), Flag.MORE),
      wsMessage(1, new Uint8Array(limit - 2 * MAX_PAYLOAD_BYTES + 1), Flag.MORE),
    );
    await p.settle();
    expect(got).toEqual([`message ${limit}`, 'ERR_MESSAGE_TOO_LARGE']);
    const reset = p.sentOfType(FrameType.RESET)[0]!;
    expect(decodeCodeReason(reset.payload).reason).toBe(`WebSocket message over the ${limit}-byte limit`);
    expect(p.errors).toEqual([]);
  });

  it('refuses a maxWsMessageBytes above MAX_WS_MESSAGE_BYTES or below 1', () => {
    expect(() => createRawPeer({ maxWsMessageBytes: MAX_WS_MESSAGE_BYTES + 1 })).toThrow(RangeError);
    expect(() => createRawPeer({ maxWsMessageBytes: 0 })).toThrow(RangeError);
  });

  it(`resets a WebSocket whose message exceeds MAX_WS_MESSAGE_BYTES (${MAX_WS_MESSAGE_BYTES}) with ERR_MESSAGE_TOO_LARGE`, async () => {
    const p = createRawPeer();
    const got: string[] = [];
    p.conn.on('stream', (s) => {
      s.respond({ status: 101, headers: [] });
      s.on('message', (m) => got.push(`message ${m.length}`));
      s.on('reset', (e) => got.push(e.code));
    });
    p.inject(hello(), wsOpen(1));
    // 64 MiB of real fragments, 64 per transport message; every fragment is a
    // view of the same buffer, so the receiver's reassembly costs no copies.
    const fragment = wsMessage(1, new Uint8Array(MAX_PAYLOAD_BYTES).fill(1), Flag.MORE);
    const batch = new Uint8Array(fragment.length * 64);
    for (let i = 0; i < 64; i++) batch.set(fragment, i * fragment.length);
    const fragmentsToLimit = Math.floor(MAX_WS_MESSAGE_BYTES / MAX_PAYLOAD_BYTES);
    for (let sent = 0; sent < fragmentsToLimit; sent += 64) p.inject(batch.subarray(0, Math.min(64, fragmentsToLimit - sent) * fragment.length));
    expect(got).toEqual([]);
    p.inject(wsMessage(1, new Uint8Array(MAX_WS_MESSAGE_BYTES - fragmentsToLimit * MAX_PAYLOAD_BYTES + 1)));
    await p.settle();
    expect(got).toEqual(['ERR_MESSAGE_TOO_LARGE']);
    expect(p.sentOfType(FrameType.RESET).map(codeOf)).toEqual(['ERR_MESSAGE_TOO_LARGE']);
    expect(p.errors).toEqual([]);
  });

  it('resets a stream on a WINDOW_UPDATE that would grow the window past 2^31-1', async () => {
    const p = createRawPeer();
    const failures: string[] = [];
    p.conn.on('stream', (s) => s.on('reset', (e) => failures.push(e.code)));
    p.inject(hello(), request(1), windowUpdate(1, 0x7fffffff));
    expect(failures).toEqual(['ERR_FLOW_CONTROL']);
  });

  it('resets a stream that mixes kinds: DATA on a WebSocket, WS_MESSAGE or WS_CLOSE on HTTP', () => {
    const cases: Array<[Uint8Array, Uint8Array, string]> = [
      [wsOpen(1), data(1, 1), 'ERR_PROTOCOL: DATA on a WebSocket stream'],
      [request(1), wsMessage(1, new Uint8Array(1)), 'ERR_PROTOCOL: WS_MESSAGE on an HTTP stream'],
      [request(1), wsClose(1), 'ERR_PROTOCOL: WS_CLOSE on an HTTP stream'],
      [wsOpen(1), response(1), 'ERR_PROTOCOL: unexpected RESPONSE'],
    ];
    for (const [open, bad, message] of cases) {
      const p = createRawPeer();
      const failures: string[] = [];
      p.conn.on('stream', (s) => s.on('reset', (e) => failures.push(e.message)));
      p.inject(hello(), open, bad);
      expect(failures).toEqual([message]);
      expect(p.errors).toEqual([]);
    }
  });

  it('refuses a stream whose head does not decode with that code, without a stream event', async () => {
    const p = createRawPeer();
    const opened: number[] = [];
    p.conn.on('stream', (s) => opened.push(s.id));
    const bad = request(1, GET);
    bad[8 + 1] = 0x20; // method "G" followed by a space: not a token
    p.inject(hello(), Uint8Array.from(bad), wsOpen(3, { method: 'POST', target: '/ws', headers: [] }));
    await p.settle();
    expect(opened).toEqual([]);
    expect(p.sentOfType(FrameType.RESET).map((f) => [f.streamId, codeOf(f)])).toEqual([
      [1, 'ERR_INVALID_HEAD'],
      [3, 'ERR_INVALID_HEAD'],
    ]);
  });

  it('surfaces a peer RESET as a stream "reset" with the peer\'s code', async () => {
    const p = createRawPeer();
    const events: string[] = [];
    p.conn.on('stream', (s) => {
      s.on('reset', (e) => events.push(`reset ${e.code} ${e.message}`));
      s.on('close', () => events.push('close'));
    });
    p.inject(hello(), request(1), reset(1, 'ERR_UPSTREAM_TIMEOUT', 'slow'));
    expect(events).toEqual(['reset ERR_UPSTREAM_TIMEOUT ERR_UPSTREAM_TIMEOUT: peer reset stream 1: slow', 'close']);
    expect(p.conn.streamCount).toBe(0);
  });

  it('emits "goaway" then "close" on a peer GOAWAY, failing open streams with its code', () => {
    const p = createRawPeer();
    const events: string[] = [];
    p.conn.on('stream', (s) => s.on('reset', (e) => events.push(`stream ${e.code}`)));
    p.conn.on('goaway', (code, reason) => events.push(`goaway ${code} ${reason}`));
    p.conn.on('close', (e) => events.push(`close ${e?.code}`));
    p.inject(hello(), request(1), goaway('ERR_GOING_AWAY', 'restarting'));
    expect(events).toEqual(['goaway ERR_GOING_AWAY restarting', 'stream ERR_GOING_AWAY', 'close ERR_GOING_AWAY']);
    expect(p.transportClosed).toBe(true);
    expect(p.errors).toEqual([]);
  });
});
