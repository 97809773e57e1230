/**
 * Fuzzing a real Connection: plausible peer scripts, mutated (bit flips,
 * truncation, splices, dropped and repeated frames) and cut into transport
 * messages, go through Connection.receive(). No exception may escape; the
 * connection ends either still working (answers a PING, can open a stream)
 * or closed with a coded error after sending GOAWAY. And a random workload on
 * two well-behaved connections never produces a protocol error.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeCodeReason, ERROR_CODES, FrameType, ProtocolError, type Stream } from '@wingman/protocol';
import { FAST_CHECK_SEED, mutatedMessagesArb, requestHeadArb } from './arbitraries';
import { connectedPair, tick, waitFor } from './pair';
import { createRawPeer, hello, ping } from './raw-peer';

/** Answers every stream the peer opens: HTTP with a small body once the request ends, WebSocket with an echo. */
function serve(stream: Stream): void {
  if (stream.kind === 'ws') {
    stream.respond({ status: 101, headers: [] });
    stream.on('message', (m, text) => stream.sendMessage(text ? 'echo' : m));
    stream.on('wsClose', (code) => stream.closeWs(code));
    return;
  }
  stream.on('data', () => {});
  stream.on('end', () => {
    stream.respond({ status: 200, headers: [['content-type', 'text/plain']] });
    stream.write(new Uint8Array(100));
    stream.end();
  });
}

describe('Connection under mutated input', () => {
  it('never throws; ends working or closed with a coded GOAWAY', async () => {
    await fc.assert(
      fc.asyncProperty(mutatedMessagesArb, async (messages) => {
        const p = createRawPeer();
        p.conn.on('stream', serve);
        const local = p.conn.open('http', { method: 'GET', target: '/from-server', headers: [] }, { end: true });
        local.on('data', () => {});
        local.on('end', () => {});

        for (const m of messages) {
          p.conn.receive(m); // an exception here fails the property
          await Promise.resolve();
        }
        await tick();

        if (p.conn.isClosed) {
          const e = p.closed?.error;
          assert.ok(e instanceof ProtocolError, 'closed without a ProtocolError');
          assert.ok(e.code in ERROR_CODES, `unknown code ${e.code}`);
          assert.ok(p.transportClosed, 'closed without closing the transport');
          if (p.errors.length > 0) {
            // A connection error of ours: the last frame out is a GOAWAY with its code.
            assert.equal(p.errors.length, 1);
            const last = p.sent.at(-1)!;
            assert.equal(last.type, FrameType.GOAWAY);
            assert.equal(decodeCodeReason(last.payload).code, ERROR_CODES[p.errors[0]!.code]);
          }
          return;
        }

        // Still open: it must still work. Finish the handshake if the mutations ate the HELLO.
        assert.equal(p.errors.length, 0);
        if (!p.conn.isReady) p.conn.receive(hello());
        const probe = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4);
        p.conn.receive(ping(probe));
        let opened: Stream | undefined;
        try {
          opened = p.conn.open('http', { method: 'GET', target: '/probe', headers: [] }, { end: true });
        } catch (err) {
          // The (mutated) HELLO may allow fewer streams than are open: that refusal is correct.
          assert.ok(err instanceof ProtocolError && err.code === 'ERR_TOO_MANY_STREAMS', String(err));
        }
        await tick();
        assert.ok(!p.conn.isClosed, `closed by the probe: ${p.closed?.error?.message}`);
        assert.ok(
          p.sentOfType(FrameType.PONG).some((f) => Buffer.from(f.payload).equals(probe)),
          'no PONG for the probe',
        );
        if (opened)
          assert.ok(
            p.sentOfType(FrameType.REQUEST).some((f) => f.streamId === opened.id),
            'the probe stream did not go out',
          );
      }),
      { seed: FAST_CHECK_SEED, numRuns: 1000 },
    );
  });
});

describe('two well-behaved Connections', () => {
  const opArb = fc.record({
    kind: fc.constantFrom('get' as const, 'post' as const, 'ws' as const, 'abort' as const),
    head: requestHeadArb,
    size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100_000 })),
  });

  it('carry any mix of requests, uploads, WebSockets and aborts without a protocol error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), fc.integer({ min: 16 * 1024, max: 64 * 1024 }), async (ops, window) => {
        const pair = connectedPair({ initialWindow: window });
        const errors: string[] = [];
        pair.client.on('error', (e) => errors.push(`client ${e.message}`));
        pair.server.on('error', (e) => errors.push(`server ${e.message}`));
        pair.server.on('stream', (s) => {
          if (s.kind === 'ws') {
            s.respond({ status: 101, headers: [] });
            s.on('message', (m) => s.sendMessage(m));
            s.on('wsClose', () => s.closeWs());
            return;
          }
          let got = 0;
          s.on('data', (c) => (got += c.length));
          s.on('end', () => {
            s.respond({ status: 200, headers: [] });
            s.write(new Uint8Array(got));
            s.end();
          });
        });
        let pending = 0;
        for (const op of ops) {
          const head = op.kind === 'ws' ? { ...op.head, method: 'GET' } : op.head;
          const s = pair.client.open(op.kind === 'ws' ? 'ws' : 'http', head, { end: op.kind === 'get' });
          pending++;
          s.on('close', () => pending--);
          if (op.kind === 'abort') {
            s.write(new Uint8Array(op.size));
            s.reset();
          } else if (op.kind === 'post') {
            s.on('data', () => {});
            s.on('end', () => {});
            s.write(new Uint8Array(op.size));
            s.end();
          } else if (op.kind === 'get') {
            s.on('data', () => {});
            s.on('end', () => {});
          } else {
            s.on('message', () => s.closeWs());
            s.on('wsClose', () => {});
            s.sendMessage(new Uint8Array(op.size));
          }
        }
        await waitFor(() => pending === 0 || errors.length > 0, 'every stream to close');
        pair.close();
        assert.deepEqual(errors, []);
      }),
      { seed: FAST_CHECK_SEED, numRuns: 100 },
    );
  });
});
