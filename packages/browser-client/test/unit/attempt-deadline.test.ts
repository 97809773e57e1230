/**
 * The P2P attempt's deadlines (page/attempt.ts), with a fake signaling socket and peer connection and
 * jest's clock: the hello's `timeoutMs` bounds ICE, and once the peer connection is `connected` the
 * channel's opening and the agent's HELLO get as long again, so a loaded machine that connects late keeps
 * a path that works. The attempt against real browsers and agents is in the e2e suites.
 */
import type { P2PAttempt as P2PAttemptClass } from '../../src/page/attempt';
import type { AttemptError } from '../../src/page/attempt-types';

class FakeSocket {
  static readonly OPEN = 1;
  readyState = FakeSocket.OPEN;
  readonly sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    sockets.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {
    this.readyState = 3;
  }
}

class FakeChannel extends EventTarget {
  binaryType = 'blob';
  readyState = 'connecting';
  onmessage: unknown = null;
}

class FakePeerConnection {
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onicecandidate: unknown = null;
  onicecandidateerror: unknown = null;
  constructor() {
    peers.push(this);
  }
  createDataChannel(): FakeChannel {
    return new FakeChannel();
  }
  createOffer(): Promise<{ type: string; sdp: string }> {
    return Promise.resolve({ type: 'offer', sdp: 'v=0\r\n' });
  }
  setLocalDescription(d: { type: string; sdp: string }): Promise<void> {
    this.localDescription = d;
    return Promise.resolve();
  }
  close(): void {
    this.connectionState = 'closed';
  }
  /** What the browser does when ICE and DTLS are done. */
  connect(): void {
    this.connectionState = 'connected';
    this.onconnectionstatechange?.();
  }
}

const sockets: FakeSocket[] = [];
const peers: FakePeerConnection[] = [];
const TIMEOUT_MS = 3_000;
let P2PAttempt: typeof P2PAttemptClass;

beforeAll(async () => {
  Object.assign(globalThis, {
    window: globalThis,
    location: { protocol: 'http:', host: 'abc.localhost:8080', hostname: 'abc.localhost' },
    WebSocket: FakeSocket,
    RTCPeerConnection: FakePeerConnection,
  });
  ({ P2PAttempt } = await import('../../src/page/attempt'));
});

beforeEach(() => {
  jest.useFakeTimers();
  sockets.length = 0;
  peers.length = 0;
});

afterEach(() => {
  jest.useRealTimers();
});

/** An attempt past the hello, its offer made; `failures` fills as it fails. */
async function attemptPastHello(): Promise<{ attempt: P2PAttemptClass; pc: FakePeerConnection; failures: AttemptError[] }> {
  const attempt = new P2PAttempt(undefined);
  const failures: AttemptError[] = [];
  attempt.listen({ peer: () => undefined, failed: (err) => failures.push(err), untrusted: () => undefined });
  const hello = { type: 'hello', viewerId: '0123456789abcdef', p2p: { enabled: true, timeoutMs: TIMEOUT_MS, iceServers: [], videoSection: false } };
  sockets[0]!.onmessage?.({ data: JSON.stringify(hello) });
  await jest.advanceTimersByTimeAsync(0);
  return { attempt, pc: peers[0]!, failures };
}

describe('P2P attempt deadlines', () => {
  it('gives up when ICE does not connect within the hello timeoutMs', async () => {
    const { failures } = await attemptPastHello();
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(failures).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(failures.map((e) => [e.reason, e.message])).toEqual([['ice-timeout', `no data channel within ${TIMEOUT_MS} ms`]]);
  });

  it('keeps a peer connection that connected late in the ICE deadline: the channel gets as long again', async () => {
    const { pc, failures } = await attemptPastHello();
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 100);
    pc.connect();
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(failures).toEqual([]);
    expect(pc.connectionState).toBe('connected');
    await jest.advanceTimersByTimeAsync(1);
    expect(failures.map((e) => e.reason)).toEqual(['ice-timeout']);
    expect(failures[0]!.message).toMatch(/^connected, but the channel was not ready within 3000 ms more/);
  });

  it('once ready, no deadline ends the attempt', async () => {
    const { attempt, pc, failures } = await attemptPastHello();
    pc.connect();
    attempt.ready({ close: () => undefined } as never);
    await jest.advanceTimersByTimeAsync(10 * TIMEOUT_MS);
    expect(failures).toEqual([]);
    expect(attempt.closed).toBe(false);
  });
});
