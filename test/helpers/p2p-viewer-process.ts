/**
 * The Node P2P viewer (`connectP2PViewer`, packages/relay-server/src/viewer)
 * in a child Node process of its own: @roamhq/wrtc can crash its process
 * natively (SIGSEGV), and it must never be jest's. The child
 * (p2p-viewer-child.cjs) loads the built viewer from
 * packages/relay-server/dist and is driven over IPC; this module loads
 * neither the viewer nor wrtc. Given a network namespace, the child runs
 * there (`ip netns exec`); given a proxy URL, its signaling goes through it.
 *
 * Every call is bounded and says what it waited for. If the child dies, every
 * pending call and wait rejects with a ViewerProcessExit naming its signal or
 * exit code and its last stderr lines, and every later call rejects the same
 * way: a native crash fails the test that was using the viewer, nothing else.
 * close() kills the child by its pid; closeViewerProcesses() closes every live
 * one (afterEach), and any left are SIGKILLed when jest exits.
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelFingerprints, HeaderList, P2PSettings } from '@wingman/protocol';
import type { P2PViewerOptions } from '../../packages/relay-server/src/viewer/p2p-viewer';
import { killAll, ROOT } from './processes';
import { withTimeout } from './wait';

const CHILD_SCRIPT = join(__dirname, 'p2p-viewer-child.cjs');
const BUILT_VIEWER = join(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js');

/** Bound on one call to the child, ms, unless the call says otherwise. */
const CALL_TIMEOUT_MS = 30_000;
/** Bound on a call that reads a body to its end, ms: 100 MiB over a data channel on a loaded 2-core machine. */
const BODY_TIMEOUT_MS = 90_000;
/** Beyond the viewer's own connect deadline: the child's start and its loading of the viewer, ms. */
const START_MARGIN_MS = 15_000;
/** Default connect deadline of the viewer (VIEWER_CONNECT_TIMEOUT_MS), ms. */
const VIEWER_CONNECT_TIMEOUT_MS = 15_000;
/** How long close() waits for the viewer's own close, then for the killed child to be gone, ms. */
const CLOSE_WAIT_MS = 5_000;
/** Stderr lines kept to explain a child's death. */
const STDERR_TAIL_LINES = 20;

/** The child ended while calls were pending (or before a call): its signal or exit code and last stderr lines. */
export class ViewerProcessExit extends Error {
  readonly code = 'ERR_VIEWER_PROCESS_EXIT';
  constructor(
    message: string,
    readonly pid: number,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(message);
    this.name = 'ViewerProcessExit';
  }
}

/** connectP2PViewer's options, with a proxy URL for its signaling (`wingman fetch --proxy`'s) in place of an http.Agent, which IPC cannot carry. */
export type ViewerConnectOptions = Omit<P2PViewerOptions, 'agent'> & { proxy?: string };

/** One end of the selected ICE candidate pair, from the viewer's getStats(). */
export interface PairEnd {
  /** host, srflx, prflx, relay */
  type: string;
  protocol: string;
  address: string;
}

/** What connect() resolves with: the viewer's facts fixed at connection. */
export interface ViewerFacts {
  viewerId: string;
  /** The channel ends at the holder of the link key. */
  verified: boolean;
  /** The DTLS fingerprints the binding covered (verified channels only). */
  fingerprints?: ChannelFingerprints;
  p2p: P2PSettings;
  connectMs: number;
}

export interface ConnectionInfo {
  /** The child's id for it: 0 for the viewer's connection. */
  id: number;
  isClosed: boolean;
}

export interface PeerConnectionInfo {
  connectionState: string;
  remoteSdp: string;
  /** readyState of its data channel. */
  channel: string;
}

/** The viewer's state when asked. */
export interface ViewerState {
  /** The viewer's connection. */
  connection: ConnectionInfo;
  peerConnection: PeerConnectionInfo;
  droppedSignals: number;
}

export interface ViewerRequest {
  method?: string;
  /** Origin-form target: "/path?query". */
  target: string;
  headers?: HeaderList;
  body?: Uint8Array;
}

export interface ResponseHead {
  status: number;
  headers: HeaderList;
  header(name: string): string | undefined;
  streamId: number;
}

export interface ViewerResponse extends ResponseHead {
  body: Buffer;
}

export interface ViewerDigest extends ResponseHead {
  length: number;
  sha256: string;
}

/** A response whose body stays in the child until asked for. */
export interface StreamingResponse extends ResponseHead {
  /** The next body chunk; undefined at the end. */
  next(): Promise<Buffer | undefined>;
  /** The rest of the body. */
  bytes(): Promise<Buffer>;
  /** Reads the rest of the body in the child: its length and SHA-256; pausing `pauseMs` each time `pauseEveryBytes` more arrived (a slow reader). */
  drain(options?: { pauseEveryBytes?: number; pauseMs?: number; timeoutMs?: number }): Promise<{ length: number; sha256: string }>;
  /** Bytes read so far, whether the body ended, whether the stream has closed. */
  progress(): Promise<{ bytes: number; done: boolean; streamClosed: boolean }>;
  reset(code?: string, message?: string): Promise<void>;
}

/** A raw stream over the viewer; its head, messages and end are kept as the child reports them. */
export interface ViewerStream {
  readonly streamId: number;
  /** The response head (101 for a WebSocket). */
  response(timeoutMs?: number): Promise<{ status: number; headers: HeaderList }>;
  /** The next WebSocket message not yet taken. */
  nextMessage(timeoutMs?: number): Promise<{ data: Buffer; text: boolean }>;
  /** How the stream ended: `close <code> <reason>` (WebSocket close) or `reset <code> <message>`. */
  ended(timeoutMs?: number): Promise<string>;
  sendMessage(data: string | Uint8Array): Promise<void>;
  closeWs(code?: number, reason?: string): Promise<void>;
  reset(code?: string, message?: string): Promise<void>;
}

interface Pending {
  op: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

const live = new Set<ViewerProcess>();
process.once('exit', () => {
  for (const v of live) v.killNow();
});

/** Where a viewer process runs: in network namespace `netns` (`ip netns exec`, root), with `env` added to ours. */
export interface ViewerPlace {
  netns?: string;
  env?: Record<string, string>;
}

/** Starts a child viewer process, not connected yet. */
export function startViewerProcess(where: ViewerPlace = {}): ViewerProcess {
  if (!existsSync(BUILT_VIEWER)) throw new Error(`${BUILT_VIEWER} is missing: run \`npm run build\` first`);
  return new ViewerProcess(where);
}

/** A child process with a viewer connected as connectP2PViewer(options) would; rejects (the child gone) with the viewer's error when it cannot connect. */
export async function connectViewerProcess(options: ViewerConnectOptions, where: ViewerPlace = {}): Promise<ViewerProcess> {
  const v = startViewerProcess(where);
  try {
    await v.connect(options);
    return v;
  } catch (err) {
    await v.close().catch(() => undefined);
    throw err;
  }
}

/** Closes every live viewer process (for afterEach); rejects after closing them all if one had died. */
export async function closeViewerProcesses(): Promise<void> {
  const results = await Promise.allSettled([...live].map((v) => v.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A test's end: its viewer processes closed, then every process it started killed and its app closed (even when a close failed). */
export async function closeViewersAndProcesses(app: { close(): Promise<unknown> } | undefined): Promise<void> {
  try {
    await closeViewerProcesses();
  } finally {
    await killAll();
    await app?.close();
  }
}

export class ViewerProcess {
  readonly pid: number;
  /** 'update' on each event from the child, 'exit' when it is gone, 'channel-send' ({ label }) on each send on the channel after requestThenLeave()'s request. */
  readonly events = new EventEmitter();
  /** Set once connect() resolved. */
  facts?: ViewerFacts;
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextRef = 1;
  private stderrTail: string[] = [];
  private stderrPartial = '';
  private exitError?: ViewerProcessExit;
  private closing = false;
  private readonly closes = new Map<number, { code?: string; message?: string } | null>();
  private readonly streams = new Map<number, StreamRecord>();

  constructor({ netns, env }: ViewerPlace = {}) {
    // Own execArgv: nothing of jest's; same process group as jest, so scripts/run-tests.mjs stopping a hung run reaches it.
    // In a namespace, `ip netns exec` execs node with the IPC channel's descriptor inherited: the pid is node's.
    const io: SpawnOptions = { cwd: ROOT, env: { ...process.env, ...env }, serialization: 'advanced', stdio: ['ignore', 'pipe', 'pipe', 'ipc'] };
    this.child = netns ? spawn('ip', ['netns', 'exec', netns, process.execPath, CHILD_SCRIPT], io) : fork(CHILD_SCRIPT, [], { ...io, execArgv: [] });
    if (this.child.pid === undefined) throw new Error('the viewer process did not start');
    this.pid = this.child.pid;
    this.events.setMaxListeners(0);
    live.add(this);
    const keep = (d: Buffer) => {
      const lines = (this.stderrPartial + d.toString()).split('\n');
      this.stderrPartial = lines.pop()!;
      this.stderrTail.push(...lines);
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - STDERR_TAIL_LINES));
    };
    this.child.stderr!.on('data', keep);
    this.child.stdout!.on('data', keep);
    this.child.on('message', (m) => {
      // A malformed message must not throw in jest's event loop: it is noted with the child's stderr.
      try {
        this.receive(m);
      } catch (err) {
        this.malformed(m, err as Error);
      }
    });
    this.child.on('error', (err) => this.gone(new ViewerProcessExit(`the viewer process (pid ${this.pid}) failed: ${err.message}`, this.pid, null, null)));
    // 'close', not 'exit': the child's last stderr lines have been read by then.
    this.child.on('close', (code, signal) => {
      const how = signal ? `died of ${signal}` : `exited with code ${code}`;
      const tail = [...this.stderrTail, this.stderrPartial].filter((l) => l !== '');
      const said = tail.length > 0 ? `; its last stderr lines:\n${tail.join('\n')}` : '; it wrote nothing on stderr';
      const why = this.closing ? `was closed by the test (${how})` : how;
      this.gone(new ViewerProcessExit(`the viewer process (pid ${this.pid}) ${why}${said}`, this.pid, code, signal));
    });
  }

  /** The child's last stderr lines. */
  stderr(): string {
    return [...this.stderrTail, this.stderrPartial].join('\n');
  }

  /** Set once the child is gone. */
  get exited(): ViewerProcessExit | undefined {
    return this.exitError;
  }

  async connect(options: ViewerConnectOptions): Promise<ViewerFacts> {
    const timeoutMs = (options.timeoutMs ?? VIEWER_CONNECT_TIMEOUT_MS) + START_MARGIN_MS;
    const v = await this.call('connect', { options }, timeoutMs);
    const o = record(v, 'connect');
    const p2p = record(o.p2p, 'p2p settings');
    if (typeof p2p.enabled !== 'boolean' || !Array.isArray(p2p.iceServers)) throw new Error(`connect: malformed p2p settings ${JSON.stringify(p2p)}`);
    const fingerprints = o.fingerprints === null ? undefined : record(o.fingerprints, 'fingerprints');
    this.facts = {
      viewerId: str(o.viewerId, 'viewerId'),
      verified: bool(o.verified, 'verified'),
      ...(fingerprints
        ? { fingerprints: { agent: str(fingerprints.agent, 'fingerprints.agent'), viewer: str(fingerprints.viewer, 'fingerprints.viewer') } }
        : {}),
      p2p: p2p as unknown as P2PSettings,
      connectMs: num(o.connectMs, 'connectMs'),
    };
    return this.facts;
  }

  /** The viewer's id (connect() first). */
  get viewerId(): string {
    if (!this.facts) throw new Error('the viewer process is not connected');
    return this.facts.viewerId;
  }

  async state(): Promise<ViewerState> {
    const o = record(await this.call('state', {}), 'state');
    return {
      connection: connectionInfo(o.connection),
      peerConnection: peerInfo(o.peerConnection),
      droppedSignals: num(o.droppedSignals, 'droppedSignals'),
    };
  }

  /** The selected ICE candidate pair of the viewer's peer connection (getStats()); null while there is none. */
  async selectedPair(): Promise<{ local: PairEnd; remote: PairEnd } | null> {
    const v = await this.call('selectedPair', {});
    if (v === null) return null;
    const o = record(v, 'selected pair');
    const end = (x: unknown, what: string): PairEnd => {
      const e = record(x, what);
      return { type: str(e.type, `${what} type`), protocol: str(e.protocol, `${what} protocol`), address: str(e.address, `${what} address`) };
    };
    return { local: end(o.local, 'local candidate'), remote: end(o.remote, 'remote candidate') };
  }

  /** One request; resolves with its head and whole body. */
  async request(req: ViewerRequest, options: { timeoutMs?: number } = {}): Promise<ViewerResponse> {
    const v = await this.call('request', { req, read: 'body' }, options.timeoutMs ?? BODY_TIMEOUT_MS);
    return { ...responseHead(v), body: buffer(record(v, 'response').body, 'body') };
  }

  /** One request whose body the child hashes: its length and SHA-256, not the bytes. */
  async requestDigest(req: ViewerRequest, options: { timeoutMs?: number } = {}): Promise<ViewerDigest> {
    const v = await this.call('request', { req, read: 'sha256' }, options.timeoutMs ?? BODY_TIMEOUT_MS);
    const o = record(v, 'response');
    return { ...responseHead(v), length: num(o.length, 'length'), sha256: str(o.sha256, 'sha256') };
  }

  /** Several requests opened in one turn of the child (a page's burst); their whole bodies. */
  async requestBurst(reqs: ViewerRequest[], options: { timeoutMs?: number } = {}): Promise<ViewerResponse[]> {
    const v = await this.call('requests', { reqs, read: 'body' }, options.timeoutMs ?? BODY_TIMEOUT_MS);
    return list(v, 'responses').map((r) => ({ ...responseHead(r), body: buffer(record(r, 'response').body, 'body') }));
  }

  /** One request; resolves with its head, the body read later through the handle. */
  async requestStreaming(req: ViewerRequest, options: { timeoutMs?: number } = {}): Promise<StreamingResponse> {
    const ref = this.nextRef++;
    const head = responseHead(await this.call('request', { req, read: 'keep', ref }, options.timeoutMs));
    return {
      ...head,
      next: async () => {
        const v = await this.call('responseNext', { ref }, BODY_TIMEOUT_MS);
        return v === null ? undefined : buffer(v, 'chunk');
      },
      bytes: async () => buffer(await this.call('responseBytes', { ref }, BODY_TIMEOUT_MS), 'body'),
      drain: async ({ pauseEveryBytes, pauseMs, timeoutMs } = {}) => {
        const o = record(await this.call('responseDrain', { ref, pauseEveryBytes, pauseMs }, timeoutMs ?? BODY_TIMEOUT_MS), 'drain');
        return { length: num(o.length, 'length'), sha256: str(o.sha256, 'sha256') };
      },
      progress: async () => {
        const o = record(await this.call('responseProgress', { ref }), 'progress');
        return { bytes: num(o.bytes, 'bytes'), done: bool(o.done, 'done'), streamClosed: bool(o.streamClosed, 'streamClosed') };
      },
      reset: async (code = 'ERR_CANCEL', message = '') => void (await this.call('streamReset', { ref, code, message })),
    };
  }

  /** Opens a raw stream: `http` (with `end`: no request body) or `ws`. */
  async openStream(kind: 'http' | 'ws', head: { method: string; target: string; headers: HeaderList }, options: { end?: boolean } = {}): Promise<ViewerStream> {
    const ref = this.nextRef++;
    const rec: StreamRecord = { messages: [] };
    this.streams.set(ref, rec);
    const o = record(await this.call('openStream', { ref, kind, head, end: options.end }), 'stream');
    const what = `${kind} stream ${head.target}`;
    return {
      streamId: num(o.streamId, 'streamId'),
      response: (timeoutMs = CALL_TIMEOUT_MS) => this.waitFor(() => rec.head, `the response head of the ${what}`, timeoutMs),
      nextMessage: (timeoutMs = CALL_TIMEOUT_MS) => this.waitFor(() => rec.messages.shift(), `a message on the ${what}`, timeoutMs),
      ended: (timeoutMs = CALL_TIMEOUT_MS) => this.waitFor(() => rec.end, `the end of the ${what}`, timeoutMs),
      sendMessage: async (data) => void (await this.call('streamSend', { ref, data })),
      closeWs: async (code = 1000, reason = '') => void (await this.call('streamCloseWs', { ref, code, reason })),
      reset: async (code = 'ERR_CANCEL', message = '') => void (await this.call('streamReset', { ref, code, message })),
    };
  }

  /** From now on the child counts, on the viewer's channel, the largest message sent and received and the messages received that are not tail-loss probes. */
  async watchChannel(): Promise<{ read(): Promise<{ largestSent: number; largestReceived: number; messages: number }> }> {
    await this.call('watchChannel', {});
    return {
      read: async () => {
        const o = record(await this.call('watched', {}), 'watched');
        return {
          largestSent: num(o.largestSent, 'largestSent'),
          largestReceived: num(o.largestReceived, 'largestReceived'),
          messages: num(o.messages, 'messages'),
        };
      },
    };
  }

  /**
   * From now on the child records every stream frame the channel
   * delivers, in order; run(streamId) says where that stream's frames are:
   * the index of its first DATA frame (-1: none), of its last frame, and how
   * many frames of other streams came between them.
   */
  async recordFrames(): Promise<{ run(streamId: number): Promise<{ first: number; last: number; between: number }> }> {
    await this.call('recordFrames', {});
    return {
      run: async (streamId) => {
        const o = record(await this.call('frameRun', { streamId }), 'frameRun');
        return { first: num(o.first, 'first'), last: num(o.last, 'last'), between: num(o.between, 'between') };
      },
    };
  }

  /**
   * One request and, in the turn of the child in which its body ends, the
   * viewer's leave(): leaving right after a request, with its tail-loss probes
   * still due. Every send on the channel from that turn on is a
   * 'channel-send' event of `events`, and is kept in `sent`. Resolves once
   * the viewer has left.
   */
  async requestThenLeave(req: ViewerRequest): Promise<{ response: ViewerResponse; sent: string[] }> {
    const sent = this.sendsFromNow();
    const v = await this.call('requestThenLeave', { req }, BODY_TIMEOUT_MS);
    return { response: { ...responseHead(v), body: buffer(record(v, 'response').body, 'body') }, sent };
  }

  /** Every 'channel-send' event from now on, as the channel's label. */
  private sendsFromNow(): string[] {
    const sent: string[] = [];
    this.events.on('channel-send', (s: { label: string }) => sent.push(s.label));
    return sent;
  }

  /** How connection `id` closed, once the child reported it (null: without an error); undefined while open. */
  closeOf(id = 0): { code?: string; message?: string } | null | undefined {
    return this.closes.get(id);
  }

  /** Resolves when connection `id` (default the first) has closed. */
  waitForClose(id = 0, timeoutMs = CALL_TIMEOUT_MS): Promise<{ code?: string; message?: string } | null> {
    return this.waitFor(() => (this.closes.has(id) ? { value: this.closes.get(id)! } : undefined), `connection ${id} of the viewer to close`, timeoutMs).then(
      (x) => x.value,
    );
  }

  /** The viewer's leave(): bye, protocol connections ended, the wrtc peer connection left to the process's end. */
  async leave(): Promise<void> {
    await this.call('leave', {});
  }

  /** The viewer's close(), then the child killed by its pid. Rejects if the child died meanwhile (a crash in close); resolves if it was gone before. */
  async close(): Promise<void> {
    if (this.exitError) return void live.delete(this);
    if (this.closing) return;
    try {
      if (this.facts) await this.call('close', {}, CLOSE_WAIT_MS);
    } finally {
      this.closing = true;
      this.killNow();
      await withTimeout(new Promise<void>((resolve) => (this.exitError ? resolve() : this.events.once('exit', () => resolve()))), {
        timeoutMs: CLOSE_WAIT_MS,
        what: `the viewer process (pid ${this.pid}) to end after SIGKILL`,
      });
      live.delete(this);
    }
  }

  /** Test-only: the child writes `stderr` on its stderr, then kills itself with `signal`. */
  crash(signal: NodeJS.Signals, stderr?: string): Promise<unknown> {
    return this.call('crash', { signal, stderr });
  }

  /** SIGKILL to the child by its pid, if it still runs. */
  killNow(): void {
    if (this.exitError) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  private call(op: string, args: Record<string, unknown>, timeoutMs = CALL_TIMEOUT_MS): Promise<unknown> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
    });
    this.child.send({ id, op, args }, (err) => {
      if (err) this.pending.get(id)?.reject(err);
    });
    return withTimeout(answer, { timeoutMs, what: `the viewer process (pid ${this.pid}) to answer ${op}` }).finally(() => this.pending.delete(id));
  }

  /** Resolves with check()'s value once defined, checked now and on each event from the child; bounded; rejects if the child dies. */
  private waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    let stop = () => {};
    const found = new Promise<T>((resolve, reject) => {
      const test = () => {
        if (this.exitError) {
          stop();
          reject(this.exitError);
          return;
        }
        const value = check();
        if (value === undefined) return;
        stop();
        resolve(value);
      };
      this.events.on('update', test);
      this.events.on('exit', test);
      stop = () => {
        this.events.off('update', test);
        this.events.off('exit', test);
      };
      test();
    });
    return withTimeout(found, { timeoutMs, what }).finally(() => stop());
  }

  private receive(m: unknown): void {
    if (typeof m !== 'object' || m === null) return this.malformed(m);
    const o = m as Record<string, unknown>;
    if (typeof o.id === 'number') {
      const p = this.pending.get(o.id);
      if (!p) return; // answered after its wait timed out
      if (o.ok === true) return p.resolve(o.value);
      const e = record(o.error, 'error');
      const err = Object.assign(
        new Error(String(e.message)),
        { name: typeof e.name === 'string' ? e.name : 'Error' },
        typeof e.code === 'string' ? { code: e.code } : {},
      );
      return p.reject(err);
    }
    switch (o.event) {
      case 'connection-close':
        this.closes.set(num(o.connection, 'connection'), o.error === undefined ? null : errorInfo(o.error));
        break;
      case 'stream': {
        const rec = this.streams.get(num(o.ref, 'ref'));
        if (!rec) return this.malformed(m);
        if (o.type === 'response') rec.head = { status: num(o.status, 'status'), headers: headerList(o.headers) };
        else if (o.type === 'message') rec.messages.push({ data: buffer(o.data, 'message'), text: bool(o.text, 'text') });
        else if (o.type === 'wsClose') rec.end ??= `close ${num(o.code, 'code')} ${str(o.reason, 'reason')}`;
        else if (o.type === 'reset') rec.end ??= `reset ${str(o.code, 'code')} ${str(o.message, 'message')}`;
        else return this.malformed(m);
        break;
      }
      case 'channel-send':
        this.events.emit('channel-send', { label: str(o.label, 'label') });
        break;
      default:
        return this.malformed(m);
    }
    this.events.emit('update');
  }

  private malformed(m: unknown, err?: Error): void {
    this.stderrTail.push(`(a malformed message from the viewer process${err ? ` (${err.message})` : ''}: ${JSON.stringify(m)?.slice(0, 200)})`);
  }

  private gone(err: ViewerProcessExit): void {
    if (this.exitError) return;
    this.exitError = err;
    live.delete(this);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.events.emit('exit', err);
  }
}

interface StreamRecord {
  head?: { status: number; headers: HeaderList };
  messages: Array<{ data: Buffer; text: boolean }>;
  end?: string;
}

// Messages from the child are checked here, at the boundary, before the tests see them.

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`the viewer process sent a malformed ${what}: ${JSON.stringify(v)}`);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`the viewer process sent a malformed ${what}: ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`the viewer process sent a malformed ${what}: ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`the viewer process sent a malformed ${what}: ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new Error(`the viewer process sent a malformed ${what}: ${JSON.stringify(v)}`);
  return v;
}

function buffer(v: unknown, what: string): Buffer {
  if (!(v instanceof Uint8Array)) throw new Error(`the viewer process sent a malformed ${what}: not bytes`);
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function headerList(v: unknown): HeaderList {
  const l = list(v, 'headers');
  for (const h of l)
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string') throw new Error(`malformed header ${JSON.stringify(h)}`);
  return l as HeaderList;
}

function errorInfo(v: unknown): { code?: string; message?: string } {
  const o = record(v, 'error');
  return { ...(typeof o.code === 'string' ? { code: o.code } : {}), ...(typeof o.message === 'string' ? { message: o.message } : {}) };
}

function connectionInfo(v: unknown): ConnectionInfo {
  const o = record(v, 'connection');
  return { id: num(o.id, 'connection id'), isClosed: bool(o.isClosed, 'isClosed') };
}

function peerInfo(v: unknown): PeerConnectionInfo {
  const o = record(v, 'peer connection');
  return {
    connectionState: str(o.connectionState, 'connectionState'),
    remoteSdp: str(o.remoteSdp, 'remoteSdp'),
    channel: str(o.channel, 'channel state'),
  };
}

function responseHead(v: unknown): ResponseHead {
  const o = record(v, 'response');
  const headers = headerList(o.headers);
  return {
    status: num(o.status, 'status'),
    headers,
    header: (name) => headers.find(([n]) => n === name.toLowerCase())?.[1],
    streamId: num(o.streamId, 'streamId'),
  };
}
