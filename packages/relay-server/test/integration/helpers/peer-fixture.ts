/**
 * Real @roamhq/wrtc peer connections and P2P hosts for a test, living in a child process (peer-fixture-child.cjs,
 * on the built agent under packages/relay-server/dist): wrtc is native code
 * that now and then crashes its process (SIGSEGV), and in the child that is
 * an exit signal this test reports, not a dead jest run. The test holds
 * handles (FixturePc, FixtureDc, FixtureHost) whose methods
 * are requests to the child; what the child's objects emit (candidates,
 * channel states, a host's signals and reports) comes back
 * as events and is recorded on the handles.
 *
 * Every request and wait is bounded, and fails at once, naming the signal or
 * exit code and the child's last stderr lines, if the child dies. `close()`
 * (in afterEach) closes everything, waits for the child's exit, kills it by
 * pid if it does not come, and throws if the child had died meanwhile.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostSignal, ViewerSignal } from '@wingman/protocol';
import type { PeerInfo, PeerReport } from '../../../src/p2p/peer-host';
import type { RtcIceCandidateInit } from '../../../src/p2p/webrtc';
import { waitForEntry, waitForEvent, withTimeout } from '../../../../../test/helpers/wait';

const CHILD = join(__dirname, 'peer-fixture-child.cjs');
const DIST_PEER_HOST = join(__dirname, '..', '..', '..', 'dist', 'p2p', 'peer-host.js');
/** Bound on one request to the child and on its start (loading wrtc on a loaded 2-core machine included). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Bound on the child's exit after `close` (it exits ~100 ms after closing its peers). */
const EXIT_TIMEOUT_MS = 5_000;
/** Stderr kept for the report of a dead child. */
const STDERR_TAIL_CHARS = 4_000;

export interface Description {
  type: string;
  sdp: string;
}

export interface Wait {
  timeoutMs?: number;
  what: string;
}

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
/** What the child sends unasked; `of`: the id of the object it is about. */
type FixtureEvent =
  | { event: 'ready'; of?: undefined }
  | { event: 'icecandidate'; of: string; candidate: RtcIceCandidateInit | null }
  | { event: 'datachannel'; of: string; channel: ChannelInfo }
  | { event: 'dc-state'; of: string; state: string }
  | { event: 'bound-message'; of: string; data: number[] }
  | { event: 'host-signal'; of: string; signal: { viewerId: string; message: HostSignal } }
  | { event: 'host-report'; of: string; report: PeerReport };
type EventOf<N extends FixtureEvent['event']> = Extract<FixtureEvent, { event: N }>;

interface ChannelInfo {
  id: string;
  label: string;
  state: string;
}

export class PeerFixture {
  /** Fixture events by name ('icecandidate', 'dc-state', …), each with its payload; 'died' with the error once the child died. */
  readonly events = new EventEmitter();
  private readonly pending = new Map<number, { op: string; resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 1;
  private stderr = '';
  private closing = false;
  /** Why the child ended without being asked to; set once it has. */
  private deathError: Error | undefined;
  /** Rejects when the child ends without being asked to; raced by every wait. */
  private readonly death: Promise<never>;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    // A listener or two per handle: a test holds dozens.
    this.events.setMaxListeners(0);
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-STDERR_TAIL_CHARS)));
    child.on('message', (m: Reply | FixtureEvent) => {
      if ('event' in m) return void this.events.emit(m.event, m);
      const waiter = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) waiter?.resolve(m.value);
      else waiter?.reject(new Error(`${waiter?.op}: ${m.error}`));
    });
    let died!: (err: Error) => void;
    this.death = new Promise<never>((_, reject) => (died = reject));
    this.death.catch(() => undefined);
    this.exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.closing || signal !== null || code !== 0) {
          this.deathError = new Error(
            `the peer fixture child (pid ${child.pid}) ${signal !== null ? `died of ${signal}` : `exited with code ${code}`}${this.closing ? ' while closing' : ''}; its last stderr:\n${this.stderr.trim() || '(none)'}`,
          );
          died(this.deathError);
          // Ends the waits on events at once, their timers with them.
          this.events.emit('died', this.deathError);
          for (const waiter of this.pending.values()) waiter.reject(this.deathError);
          this.pending.clear();
        }
        resolve();
      }),
    );
  }

  /** The child's pid. */
  get pid(): number {
    return this.child.pid!;
  }

  /** Starts the child and waits until it has loaded the agent's P2P code and wrtc. */
  static async start(): Promise<PeerFixture> {
    if (!existsSync(DIST_PEER_HOST)) throw new Error(`${DIST_PEER_HOST} is missing: run \`npm run build\` first`);
    const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    const fixture = new PeerFixture(child);
    try {
      await fixture.wait(waitForEvent(fixture.events, 'ready', { timeoutMs: REQUEST_TIMEOUT_MS, failOn: ['died'] }), {
        what: 'the peer fixture child to start',
      });
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    return fixture;
  }

  /** `promise`, bounded, failing at once with the child's death. */
  wait<T>(promise: Promise<T>, { timeoutMs = REQUEST_TIMEOUT_MS, what }: Wait): Promise<T> {
    return withTimeout(Promise.race([promise, this.death]), { timeoutMs, what });
  }

  /** One request to the child, answered within `timeoutMs`. */
  request<T>(op: string, args: unknown[], timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    if (this.deathError) return Promise.reject(this.deathError);
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { op, resolve, reject });
      // A send to a child that is going fails here, not as an 'error' event; its exit then names why.
      this.child.send({ id, op, args }, (err) => err && reject(err));
    });
    return this.wait(answer, { timeoutMs, what: `the peer fixture's answer to ${op}` });
  }

  /** The next fixture event `name` passing `filter`. */
  nextEvent<E extends FixtureEvent>(name: E['event'], filter: (e: E) => boolean, wait: Wait): Promise<E> {
    return this.wait(waitForEvent(this.events, name, { filter, timeoutMs: wait.timeoutMs ?? REQUEST_TIMEOUT_MS, what: wait.what, failOn: ['died'] }), wait);
  }

  /** The first entry of `list` passing `filter`, or the next one `name` events add to it. */
  entry<T>(list: T[], emitter: EventEmitter, name: string, filter: (entry: T) => boolean, wait: Wait): Promise<T> {
    return this.wait(waitForEntry(list, emitter, name, { filter, timeoutMs: wait.timeoutMs ?? REQUEST_TIMEOUT_MS, what: wait.what, failOn: ['died'] }), wait);
  }

  async newPc(config: { iceServers?: Array<{ urls: string[]; username?: string; credential?: string }> } = {}): Promise<FixturePc> {
    return new FixturePc(this).attach(await this.request<string>('pc.new', [config]));
  }

  async newHost(options: { acceptLoopbackCandidates?: boolean; hideHostCandidates?: boolean; connectTimeoutMs?: number } = {}): Promise<FixtureHost> {
    return new FixtureHost(this).attach(await this.request<string>('host.new', [options]));
  }

  /** Closes everything in the child and waits for its exit (killing it by pid if that does not come); throws if it died. */
  async close(): Promise<void> {
    if (!this.deathError && this.child.exitCode === null && this.child.signalCode === null) {
      this.closing = true;
      this.child.send({ id: this.nextId++, op: 'close', args: [] }, () => undefined);
      try {
        await withTimeout(this.exited, { timeoutMs: EXIT_TIMEOUT_MS, what: `the peer fixture child (pid ${this.child.pid}) to exit after close` });
      } catch (err) {
        if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid!, 'SIGKILL');
        await this.exited;
        throw err;
      }
    }
    if (this.deathError) throw this.deathError;
  }
}

/** A handle on an object of the child, named by the id the child gave it (attach), whose requests are `<kind>.<op>`. */
abstract class Handle {
  id = '';
  /** Emits each entry record() adds, as it is added, and 'died' with the child. */
  protected readonly recorded = new EventEmitter();

  constructor(
    readonly fixture: PeerFixture,
    private readonly kind: string,
  ) {
    fixture.events.once('died', (err: Error) => this.recorded.emit('died', err));
  }

  attach(id: string): this {
    this.id = id;
    return this;
  }

  protected call<T>(op: string, ...args: unknown[]): Promise<T> {
    return this.fixture.request<T>(`${this.kind}.${op}`, [this.id, ...args]);
  }

  /** Appends what each `name` event about this object carries (`pick`) to `list`, and emits it as `as`. */
  protected record<N extends FixtureEvent['event'], T>(name: N, pick: (e: EventOf<N>) => T, list: T[], as: string): void {
    this.fixture.events.on(name, (e: EventOf<N>) => {
      if (e.of !== this.id) return;
      const value = pick(e);
      list.push(value);
      this.recorded.emit(as, value);
    });
  }

  /** The first entry of `list` passing `filter`, there already or to come. */
  protected entry<T>(list: T[], as: string, filter: (entry: T) => boolean, wait: Wait): Promise<T> {
    return this.fixture.entry(list, this.recorded, as, filter, wait);
  }
}

export class FixturePc extends Handle {
  /** The candidates the peer connection gathered (null: gathering done), unless they go to a host (trickleTo). */
  readonly candidates: Array<RtcIceCandidateInit | null> = [];

  constructor(fixture: PeerFixture) {
    super(fixture, 'pc');
    this.record('icecandidate', (e) => e.candidate, this.candidates, 'candidate');
  }

  async createDataChannel(label: string, init?: { ordered?: boolean }): Promise<FixtureDc> {
    return new FixtureDc(this.fixture, await this.call<ChannelInfo>('createDataChannel', label, init));
  }
  addTransceiver(kind: 'audio' | 'video', init: { direction: string }): Promise<void> {
    return this.call('addTransceiver', kind, init);
  }
  createOffer = () => this.call<Description>('createOffer');
  createAnswer = () => this.call<Description>('createAnswer');
  setLocalDescription = (d: Description) => this.call<void>('setLocalDescription', d);
  setRemoteDescription = (d: Description) => this.call<void>('setRemoteDescription', d);
  addIceCandidate = (c: RtcIceCandidateInit) => this.call<void>('addIceCandidate', c);
  descriptions = () => this.call<{ local: Description | null; remote: Description | null }>('descriptions');
  /** The DTLS transport's state, as the peer connection's stats say. */
  dtlsState = () => this.call<string>('dtlsState');
  close = () => this.call<void>('close');

  async localDescription(): Promise<Description> {
    const { local } = await this.descriptions();
    if (!local) throw new Error(`${this.id} has no local description`);
    return local;
  }

  /** Resolves once gathering is done (its null candidate), now or later. */
  async gathered(wait: Wait = { timeoutMs: 10_000, what: `${this.id} to gather its candidates` }): Promise<void> {
    await this.entry(this.candidates, 'candidate', (c) => c === null, wait);
  }

  /** The next channel the other end opens to this peer connection. */
  async nextChannel(wait: Wait): Promise<FixtureDc> {
    const e = await this.fixture.nextEvent<EventOf<'datachannel'>>('datachannel', (ev) => ev.of === this.id, wait);
    return new FixtureDc(this.fixture, e.channel);
  }

  /** From now on its candidates go straight to `host` (in the child, as a page's trickle would) as viewer `viewerId`'s `ice-candidate` signals. */
  trickleTo(host: FixtureHost, viewerId: string, pcIndex?: number): Promise<void> {
    return this.call('trickleTo', host.id, viewerId, pcIndex);
  }
}

export class FixtureDc extends Handle {
  readonly label: string;
  /** The readyStates the child reported after the first, in order. */
  readonly states: string[] = [];
  /** What the bound channel delivered, once bound (bind). */
  readonly boundMessages: number[][] = [];
  private readonly initialState: string;

  constructor(fixture: PeerFixture, info: ChannelInfo) {
    super(fixture, 'dc');
    this.attach(info.id);
    this.label = info.label;
    this.initialState = info.state;
    this.record('dc-state', (e) => e.state, this.states, 'state');
    this.record('bound-message', (e) => e.data, this.boundMessages, 'message');
  }

  /** Its readyState, as the child last reported it. */
  get state(): string {
    return this.states.at(-1) ?? this.initialState;
  }

  /** Resolves once the channel is open, now or later. */
  async opened(wait: Wait): Promise<void> {
    if (this.state === 'open') return;
    await this.fixture.wait(
      waitForEvent(this.recorded, 'state', { filter: (s: string) => s === 'open', timeoutMs: wait.timeoutMs, what: wait.what, failOn: ['died'] }),
      wait,
    );
  }

  /** Resolves once the bound channel has delivered `count` messages, with them. */
  async boundMessagesUpTo(count: number, wait: Wait): Promise<number[][]> {
    await this.entry(this.boundMessages, 'message', () => this.boundMessages.length >= count, wait);
    return this.boundMessages.slice(0, count);
  }

  /** Resolves when the channel closes, with `pc`'s DTLS state read right then. Listening starts before any later request runs. */
  dtlsStateAtClose(pc: FixturePc, wait: Wait): Promise<string> {
    return this.fixture.request<string>('dc.dtlsStateAtClose', [this.id, pc.id], wait.timeoutMs);
  }

  /** Sends every message this channel receives on through `to`, untouched. */
  relayTo(to: FixtureDc): Promise<void> {
    return this.call('relayTo', to.id);
  }

  /**
   * Binds this channel (docs/PROTOCOL.md §Verified channels) as `me`, with the fingerprints `pc` sees:
   * 'bound', 'refused' or the error. Once bound, `sendWhenBound` goes out at once, and what the bound
   * channel delivers lands in boundMessages.
   */
  bind(options: { pc: FixturePc; me: 'agent' | 'viewer'; linkKey: string; sessionId: string; sendWhenBound?: number[][] }): Promise<string> {
    const { pc, ...rest } = options;
    return this.fixture.request<string>('dc.bind', [this.id, { ...rest, pc: pc.id }], 20_000);
  }
}

/** A P2P host (peer-host.ts) in the child, with the viewers' streams refused. */
export class FixtureHost extends Handle {
  /** Every signal it sent, in order. */
  readonly signals: Array<{ viewerId: string; message: HostSignal }> = [];
  readonly reports: PeerReport[] = [];

  constructor(fixture: PeerFixture) {
    super(fixture, 'host');
    this.record('host-signal', (e) => e.signal, this.signals, 'signal');
    this.record('host-report', (e) => e.report, this.reports, 'report');
  }

  /** Emits 'signal' ({ viewerId, message }) and 'report' as they come. */
  get emitter(): EventEmitter {
    return this.recorded;
  }

  handleSignal = (viewerId: string, message: ViewerSignal) => this.call<void>('handleSignal', viewerId, message);
  closePeer = (viewerId: string, reason: string) => this.call<void>('closePeer', viewerId, reason);
  peers = () => this.call<PeerInfo[]>('peers');
  close = () => this.call<void>('close');

  /** The first signal passing `filter`, sent already or to come. */
  signal(filter: (s: { viewerId: string; message: HostSignal }) => boolean, wait: Wait): Promise<{ viewerId: string; message: HostSignal }> {
    return this.entry(this.signals, 'signal', filter, wait);
  }

  /** The first report passing `filter`, made already or to come. */
  report(filter: (r: PeerReport) => boolean, wait: Wait): Promise<PeerReport> {
    return this.entry(this.reports, 'report', filter, wait);
  }
}
