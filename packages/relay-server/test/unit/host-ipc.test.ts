/**
 * The IPC messages between the agent and its P2P host process are checked on
 * both sides (host-ipc.ts): a message cut short or garbled by a crash, or one
 * of a newer/older shape, is dropped — never acted on half-parsed.
 */
import { MAX_CAPTURE_BODY_LIMIT_BYTES, type WireCapture } from '../../src/forward';
import { captureFromWire, MAX_HOST_BATCH, parseFromHost, parseFromHostMessages, parseToHost } from '../../src/p2p/host-ipc';

const init = {
  t: 'init',
  forward: { target: { host: 'localhost', port: 3000 }, hostHeader: 'rewrite' },
  iceServers: [],
  connectTimeoutMs: 5000,
};

describe('parseToHost (agent → host process)', () => {
  it('accepts every known message', () => {
    expect(parseToHost(init)).toEqual(init);
    expect(parseToHost({ t: 'signal', viewerId: 'a', message: { type: 'offer', sdp: 'v=0' } })).toEqual({
      t: 'signal',
      viewerId: 'a',
      message: { type: 'offer', sdp: 'v=0' },
    });
    expect(parseToHost({ t: 'viewer-left', viewerId: 'a' })).toEqual({ t: 'viewer-left', viewerId: 'a' });
    expect(parseToHost({ t: 'close-peer', viewerId: 'a', reason: 'refused' })).toEqual({ t: 'close-peer', viewerId: 'a', reason: 'refused' });
    expect(parseToHost({ t: 'ice-servers', iceServers: [{ urls: ['stun:127.0.0.1:3478'] }] })).toEqual({
      t: 'ice-servers',
      iceServers: [{ urls: ['stun:127.0.0.1:3478'] }],
    });
    expect(parseToHost({ t: 'close' })).toEqual({ t: 'close' });
    expect(parseToHost({ t: 'claimed', seq: 7, won: false })).toEqual({ t: 'claimed', seq: 7, won: false });
  });

  it.each([
    ['not an object', 'close'],
    ['null', null],
    ['an array', [init]],
    ['an unknown type', { t: 'reboot' }],
    ['init without a target', { ...init, forward: { hostHeader: 'rewrite' } }],
    ['init with a string port', { ...init, forward: { ...init.forward, target: { host: 'localhost', port: '3000' } } }],
    ['init without ICE servers', { ...init, iceServers: undefined }],
    ['init whose ICE servers the protocol rejects', { ...init, iceServers: [{ urls: 'stun:127.0.0.1:3478' }] }],
    ['init with a fractional port', { ...init, forward: { ...init.forward, target: { host: 'localhost', port: 30.5 } } }],
    ['ICE servers that are not a list', { t: 'ice-servers', iceServers: { urls: ['stun:127.0.0.1:3478'] } }],
    ['a signal without a viewer', { t: 'signal', message: { type: 'offer', sdp: 'v=0' } }],
    ['a signal the protocol rejects', { t: 'signal', viewerId: 'a', message: { type: 'offer', sdp: 5 } }],
    ['a signal of an unknown type', { t: 'signal', viewerId: 'a', message: { type: 'answer', sdp: 'v=0' } }],
    ['viewer-left without a viewer', { t: 'viewer-left' }],
    ['close-peer without a reason', { t: 'close-peer', viewerId: 'a' }],
    ['close-peer with an overlong reason', { t: 'close-peer', viewerId: 'a', reason: 'x'.repeat(201) }],
    ['a claim answer without its outcome', { t: 'claimed', seq: 7 }],
    ['a claim answer with a negative sequence number', { t: 'claimed', seq: -1, won: true }],
  ])('drops %s', (_what, m) => {
    expect(parseToHost(m)).toBeUndefined();
  });
});

describe('parseFromHost (host process → agent)', () => {
  it('accepts every known message', () => {
    expect(parseFromHost({ t: 'ready' })).toEqual({ t: 'ready' });
    expect(parseFromHost({ t: 'signal', viewerId: 'a', message: { type: 'answer', sdp: 'v=0' } })).toEqual({
      t: 'signal',
      viewerId: 'a',
      message: { type: 'answer', sdp: 'v=0' },
    });
    const report = { viewerId: 'a', state: 'connected', connectMs: 40 };
    expect(parseFromHost({ t: 'report', report })).toEqual({ t: 'report', report });
    const entry = { method: 'GET', target: '/', status: 200, ms: 3, transport: 'p2p' };
    expect(parseFromHost({ t: 'request', entry })).toEqual({ t: 'request', entry });
    expect(parseFromHost({ t: 'rtt', viewerId: 'a', rttMs: 7.5 })).toEqual({ t: 'rtt', viewerId: 'a', rttMs: 7.5 });
    const closed = { viewerId: 'a', state: 'closed', reason: 'ICE failed', rttMs: 3 };
    expect(parseFromHost({ t: 'report', report: closed })).toEqual({ t: 'report', report: closed });
    const failed = { method: 'GET', target: '/x', status: 0, ms: 1, transport: 'p2p', error: 'ERR_LOCAL_UNREACHABLE' };
    expect(parseFromHost({ t: 'request', entry: failed })).toEqual({ t: 'request', entry: failed });
    const refusal = { type: 'error', code: 'ERR_TOO_MANY_PEERS', message: 'full' };
    expect(parseFromHost({ t: 'signal', viewerId: 'a', message: refusal })).toEqual({ t: 'signal', viewerId: 'a', message: refusal });
    const claim = { t: 'claim', seq: 0, viewerId: 'a', id: 'AAAAAAAAAAAAAAAAAAAAAA' };
    expect(parseFromHost(claim)).toEqual(claim);
    const ended = { t: 'claim-ended', viewerId: 'a', id: 'AAAAAAAAAAAAAAAAAAAAAA' };
    expect(parseFromHost(ended)).toEqual(ended);
  });

  it.each([
    ['an unknown type', { t: 'signal-all' }],
    ['a signal the protocol rejects', { t: 'signal', viewerId: 'a', message: { type: 'answer' } }],
    ['a viewer signal type the host never sends', { t: 'signal', viewerId: 'a', message: { type: 'offer', sdp: 'v=0' } }],
    ['a signaling error with a code of another layer', { t: 'signal', viewerId: 'a', message: { type: 'error', code: 'ERR_SESSION_IN_USE', message: 'x' } }],
    ['a report with an unknown state', { t: 'report', report: { viewerId: 'a', state: 'exploded' } }],
    ['a report without a viewer', { t: 'report', report: { state: 'closed' } }],
    ['an RTT that is not a number', { t: 'rtt', viewerId: 'a', rttMs: '7' }],
    ['a negative RTT', { t: 'rtt', viewerId: 'a', rttMs: -1 }],
    ['an RTT without a viewer', { t: 'rtt', rttMs: 7 }],
    ['a request entry without a status', { t: 'request', entry: { method: 'GET', target: '/', ms: 1 } }],
    ['a report whose reason is not text', { t: 'report', report: { viewerId: 'a', state: 'closed', reason: 42 } }],
    ['a report with a negative connect time', { t: 'report', report: { viewerId: 'a', state: 'connected', connectMs: -5 } }],
    ['a report with an RTT that is not a number', { t: 'report', report: { viewerId: 'a', state: 'connected', rttMs: 'fast' } }],
    ['a report with an empty viewer id', { t: 'report', report: { viewerId: '', state: 'closed' } }],
    ['a signal for an over-long viewer id', { t: 'signal', viewerId: 'v'.repeat(257), message: { type: 'answer', sdp: 'v=0' } }],
    ['an RTT for an empty viewer id', { t: 'rtt', viewerId: '', rttMs: 7 }],
    ['an infinite RTT', { t: 'rtt', viewerId: 'a', rttMs: Infinity }],
    ['a request entry without a transport', { t: 'request', entry: { method: 'GET', target: '/', status: 200, ms: 1 } }],
    ['a request entry of an unknown transport', { t: 'request', entry: { method: 'GET', target: '/', status: 200, ms: 1, transport: 'smoke' } }],
    ['a request entry with a fractional status', { t: 'request', entry: { method: 'GET', target: '/', status: 200.5, ms: 1, transport: 'p2p' } }],
    ['a request entry with a negative duration', { t: 'request', entry: { method: 'GET', target: '/', status: 200, ms: -1, transport: 'p2p' } }],
    ['a request entry with an empty method', { t: 'request', entry: { method: '', target: '/', status: 200, ms: 1, transport: 'p2p' } }],
    ['a request entry whose error is not text', { t: 'request', entry: { method: 'GET', target: '/', status: 0, ms: 1, transport: 'p2p', error: {} } }],
    ['a request entry whose target is not text', { t: 'request', entry: { method: 'GET', target: ['/'], status: 200, ms: 1, transport: 'p2p' } }],
    ['a claim whose id is not one', { t: 'claim', seq: 0, viewerId: 'a', id: 'short' }],
    ['a claim without a sequence number', { t: 'claim', viewerId: 'a', id: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    ['a claim with a fractional sequence number', { t: 'claim', seq: 0.5, viewerId: 'a', id: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    ['a claim for an over-long viewer id', { t: 'claim', seq: 0, viewerId: 'v'.repeat(257), id: 'AAAAAAAAAAAAAAAAAAAAAA' }],
    ['a claim end whose id is not one', { t: 'claim-ended', viewerId: 'a', id: 'short' }],
  ])('drops %s', (_what, m) => {
    expect(parseFromHost(m)).toBeUndefined();
  });
});

describe('batches of per-exchange messages from the host process', () => {
  const entry = (target: string) => ({ method: 'GET', target, status: 200, ms: 3, transport: 'p2p' });

  it('gives each message of a batch in order, and a single message as it is', () => {
    const batch = {
      t: 'batch',
      messages: [
        { t: 'request', entry: entry('/a') },
        { t: 'request', entry: entry('/b') },
      ],
    };
    expect(parseFromHostMessages(batch)).toEqual(batch.messages);
    expect(parseFromHostMessages({ t: 'ready' })).toEqual([{ t: 'ready' }]);
    expect(parseFromHostMessages({ t: 'nope' })).toEqual([]);
  });

  it('drops what a batch may not carry (other messages, a nested batch, a garbled entry) and a batch over MAX_HOST_BATCH', () => {
    const messages = [
      { t: 'signal', viewerId: 'a', message: { type: 'answer', sdp: 'v=0' } },
      { t: 'batch', messages: [{ t: 'request', entry: entry('/nested') }] },
      { t: 'request', entry: { ...entry('/bad'), status: 'x' } },
      { t: 'request', entry: entry('/ok') },
    ];
    expect(parseFromHostMessages({ t: 'batch', messages })).toEqual([{ t: 'request', entry: entry('/ok') }]);
    const tooMany = Array.from({ length: MAX_HOST_BATCH + 1 }, (_, i) => ({ t: 'request', entry: entry(`/${i}`) }));
    expect(parseFromHostMessages({ t: 'batch', messages: tooMany })).toEqual([]);
    expect(parseFromHostMessages({ t: 'batch', messages: 'x' })).toEqual([]);
  });
});

describe('inspector captures from the host process', () => {
  const capture = {
    method: 'POST',
    target: '/api?x=1',
    transport: 'p2p',
    viewer: 'v1',
    startedAt: 1_700_000_000_000,
    durationMs: 12,
    status: 201,
    requestHeaders: [['content-type', 'application/json']],
    responseHeaders: [['x-wingman-transport', 'p2p']],
    requestBody: { data: Buffer.from('{"a":1}'), size: 7, truncated: false },
    responseBody: { data: Buffer.alloc(0), size: 0, truncated: false },
  };

  it('carries a body not kept because the host was under load', () => {
    const wire = { ...capture, responseBody: { data: new Uint8Array(0), size: 9, truncated: true, underLoad: true } };
    const c = captureFromWire((parseFromHost({ t: 'capture', capture: wire }) as { capture: WireCapture }).capture);
    expect(c.responseBody).toEqual({ data: Buffer.alloc(0), size: 9, truncated: true, underLoad: true });
  });

  it('accepts a capture and keeps its bodies as bytes', () => {
    const m = parseFromHost({ t: 'capture', capture });
    expect(m).toEqual({ t: 'capture', capture });
    const c = captureFromWire((m as { capture: WireCapture }).capture);
    expect(c.requestBody.data.toString()).toBe('{"a":1}');
  });

  it('turns a body that crossed as a plain Uint8Array (structured clone) into a Buffer', () => {
    const wire = { ...capture, requestBody: { data: new Uint8Array(Buffer.from('xx{"a":1}')).subarray(2), size: 7, truncated: false } };
    const m = parseFromHost({ t: 'capture', capture: wire });
    const c = captureFromWire((m as { capture: WireCapture }).capture);
    expect(Buffer.isBuffer(c.requestBody.data) && c.requestBody.data.toString()).toBe('{"a":1}');
  });

  it.each([
    ['a capture without a transport', { ...capture, transport: undefined }],
    ['a capture of an unknown transport', { ...capture, transport: 'carrier-pigeon' }],
    ['a body that is not bytes', { ...capture, requestBody: { data: '<html>', size: 6, truncated: false } }],
    ['a body larger than the largest cap', { ...capture, responseBody: { data: new Uint8Array(MAX_CAPTURE_BODY_LIMIT_BYTES + 1), size: 1, truncated: false } }],
    ['a header that is not a pair', { ...capture, requestHeaders: [['only-a-name']] }],
    ['a header of three strings', { ...capture, requestHeaders: [['a', 'b', 'c']] }],
    ['a header value that is not a string', { ...capture, responseHeaders: [['content-length', 5]] }],
    ['an overlong header value', { ...capture, responseHeaders: [['x-big', 'x'.repeat(65_537)]] }],
    ['more headers than a head carries', { ...capture, requestHeaders: Array.from({ length: 1025 }, () => ['a', 'b']) }],
    ['headers that are not a list', { ...capture, requestHeaders: { 'content-type': 'text/html' } }],
    ['a negative status', { ...capture, status: -1 }],
  ])('drops %s', (_what, bad) => {
    expect(parseFromHost({ t: 'capture', capture: bad })).toBeUndefined();
  });

  it('takes a body cap in init only within the allowed range', () => {
    expect(parseToHost({ ...init, captureBodyLimitBytes: 1024 })).toEqual({ ...init, captureBodyLimitBytes: 1024 });
    expect(parseToHost({ ...init, captureBodyLimitBytes: -1 })).toBeUndefined();
    expect(parseToHost({ ...init, captureBodyLimitBytes: MAX_CAPTURE_BODY_LIMIT_BYTES + 1 })).toBeUndefined();
  });
});
