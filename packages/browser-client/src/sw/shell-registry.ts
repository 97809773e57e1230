/**
 * Which windows can carry a request over P2P: shells announce themselves, app frames name their shell (the
 * Clients API does not tell a frame's parent). In memory: a restarted SW asks again, waiting only for the
 * windows that had an open channel (docs/browser-client.md §Routing rules, "Sync after a start").
 */
import { SW_SYNC_TIMEOUT_MS } from '../shared/constants';
import { createExchangeMux, retirePort, type ExchangeMux } from '../shared/exchange-mux';
import type { FrameAnnounce, ShellAnnounce } from '../shared/messages';
import type { ShellPick, ShellTarget } from './shell-target';
import { settleWithin } from '../shared/settle-within';

interface ShellEntry {
  shellId: string;
  clientId: string;
  target: ShellTarget;
  /** Aborts target.channelGone. */
  gone: AbortController;
  port: MessagePort | undefined;
  p2p: boolean;
  turn: boolean;
  /** A private session's shell: nothing goes to the relay. */
  private: boolean;
  exclude: string[];
  announcedAt: number;
}

export type ShellRegistry = ReturnType<typeof createShellRegistry>;

/** What the registry uses of a window (a Client in the SW; the shape, so that it runs outside a SW too). */
export interface WindowClient {
  readonly id: string;
  postMessage(message: unknown, transfer: Transferable[]): void;
}

/** What the registry uses of the SW's global scope. */
export interface RegistryScope {
  clients: {
    get(id: string): Promise<unknown>;
    matchAll(options: { type: 'window'; includeUncontrolled?: boolean }): Promise<readonly WindowClient[]>;
  };
}

/** Where the ids of the windows with an open channel outlive a SW restart (IndexedDB in the SW). */
export interface ChannelMemory {
  load(): Promise<string[]>;
  save(clientIds: string[]): void;
}

/** Windows remembered at most (tabs with a channel at once; beyond it the oldest are forgotten: a restart then waits for none of them). */
const MAX_REMEMBERED = 32;

/** The exchanges on a shell's port (one mux per port: a re-announcement that reuses the port keeps it). */
const muxes = new WeakMap<MessagePort, ExchangeMux>();

function muxOf(port: MessagePort): ExchangeMux {
  const known = muxes.get(port);
  if (known) return known;
  const mux = createExchangeMux({ post: (m, t) => port.postMessage(m, t) });
  port.onmessage = (ev: MessageEvent) => void mux.receive(ev.data);
  muxes.set(port, mux);
  return mux;
}

/** `gone`: told each shell the registry forgets (lossy-path.ts: its pending loss probe goes with it). */
export function createShellRegistry(scope: RegistryScope, memory?: ChannelMemory, gone?: (shellId: string) => void) {
  const shells = new Map<string, ShellEntry>();
  /** frame client id → shell id */
  const frames = new Map<string, string>();
  let synced: Promise<void> | undefined;
  /** ensureSynced() has settled: what the registry knows of channels is as complete as it gets. */
  let syncSettled = false;
  /** Set while a sync waits: told which window just announced itself. */
  let onAnnounce: ((clientId: string) => void) | undefined;
  /** Requests waiting for a shell with a channel (waitForChannel). */
  const channelWaiters = new Set<() => void>();
  const { remembered, rememberChannel } = channelRemembrance(memory);
  const anyChannel = () => [...shells.values()].some((e) => e.p2p);

  /** Forgets a shell: what was handed to it and not yet accepted goes to the relay (ShellTarget.channelGone). */
  function drop(entry: ShellEntry): void {
    shells.delete(entry.shellId);
    entry.gone.abort();
    gone?.(entry.shellId);
  }

  function forgetClient(clientId: string): void {
    for (const e of [...shells.values()]) if (e.clientId === clientId) drop(e);
    frames.delete(clientId);
  }

  async function alive(entry: ShellEntry): Promise<boolean> {
    const c = await scope.clients.get(entry.clientId);
    if (!c) {
      drop(entry);
      entry.port?.close();
    }
    return c !== undefined;
  }

  return {
    /** `port`: the shell's end of a channel for requests, when it sent one. */
    shellAnnounced(m: ShellAnnounce, source: WindowClient, port?: MessagePort): void {
      // One entry per window: a reloaded window is a new client, but be safe.
      for (const e of [...shells.values()]) if (e.clientId === source.id && e.shellId !== m.shellId) drop(e);
      const previous = shells.get(m.shellId);
      // One signal per open channel: kept while the shell re-announces it (RTT updates), aborted once it is gone.
      const gone = previous?.p2p && m.p2p ? previous.gone : new AbortController();
      if (previous && previous.gone !== gone) previous.gone.abort();
      // Closed a little later: a reply the shell posted on it just before may still be in flight.
      const old = previous?.port;
      if (old && port && old !== port) retirePort(old, muxes.get(old));
      const via = port ?? previous?.port;
      shells.set(m.shellId, {
        shellId: m.shellId,
        clientId: source.id,
        target: shellTarget(source, via, gone.signal),
        gone,
        port: via,
        p2p: m.p2p,
        turn: m.turn === true,
        private: m.private === true,
        exclude: m.exclude,
        announcedAt: Date.now(),
      });
      onAnnounce?.(source.id);
      rememberChannel(source.id, m.p2p);
      if (m.p2p) for (const wake of [...channelWaiters]) wake();
    },
    frameAnnounced(m: FrameAnnounce, source: WindowClient): void {
      frames.set(source.id, m.shellId);
      // Bounded: entries of gone frames are pruned when the map grows.
      if (frames.size > 256) void prune();
      onAnnounce?.(source.id);
    },
    /** Restores the state after a SW restart (no-op after the first call). */
    ensureSynced(): Promise<void> {
      synced ??= resync(scope, remembered, anyChannel, (fn) => (onAnnounce = fn)).finally(() => {
        syncSettled = true;
      });
      return synced;
    },
    /** The shell to carry a request from `clientId` (or a navigation's `resultingClientId`): its own with a channel, else any with one. */
    async pick(clientId: string, resultingClientId: string): Promise<ShellPick | undefined> {
      const ownId = frames.get(clientId) ?? frames.get(resultingClientId);
      const own = ownId !== undefined ? shells.get(ownId) : undefined;
      if (own && resultingClientId && !frames.has(resultingClientId)) frames.set(resultingClientId, own.shellId);
      if (own?.p2p) return { ...own.target, ownTab: true, turn: own.turn, private: own.private, shellId: own.shellId };
      const ready = [...shells.values()].filter((s) => s.p2p && s !== own).sort((a, b) => b.announcedAt - a.announcedAt);
      for (const entry of ready)
        if (await alive(entry)) return { ...entry.target, ownTab: false, turn: entry.turn, private: entry.private, shellId: entry.shellId };
      return undefined;
    },
    /** The ids of the shells whose last announcement said their channel is open (the diagnostics page shows them). */
    shellsWithChannel(): string[] {
      return [...shells.values()].filter((e) => e.p2p).map((e) => e.shellId);
    },
    /** A private session's shell has announced itself without an open channel (the word that it opened may be on its way). */
    privateWithoutChannel(): boolean {
      return [...shells.values()].some((e) => e.private && !e.p2p);
    },
    /** Some shell has an open channel (through TURN or not); undefined until the state after a SW start is rebuilt (ensureSynced). */
    hasChannelNow(): boolean | undefined {
      return syncSettled ? anyChannel() : undefined;
    },
    /** Waits up to `ms` for a shell to announce an open channel; then pick()'s answer. */
    async waitForChannel(clientId: string, resultingClientId: string, ms: number): Promise<ShellPick | undefined> {
      if (!anyChannel())
        await settleWithin<void>(ms, undefined, (settle) => {
          channelWaiters.add(settle);
          return () => channelWaiters.delete(settle);
        });
      return this.pick(clientId, resultingClientId);
    },
    /** A live shell window, channel or not, the most recently announced first (undefined: none). */
    async anyShell(): Promise<ShellTarget | undefined> {
      const all = [...shells.values()].sort((a, b) => b.announcedAt - a.announcedAt);
      for (const entry of all) if (await alive(entry)) return entry.target;
      return undefined;
    },
    /** True when `path` starts with a developer-excluded prefix. */
    isExcluded(path: string): boolean {
      return [...shells.values()].some((s) => s.exclude.some((prefix) => path.startsWith(prefix)));
    },
  };

  async function prune(): Promise<void> {
    const live = new Set((await scope.clients.matchAll({ type: 'window', includeUncontrolled: true })).map((c) => c.id));
    for (const id of [...frames.keys()]) if (!live.has(id)) forgetClient(id);
  }
}

/** The target that carries requests to a shell: its port when it sent one (a direct pipe to the window; Client.postMessage goes through the browser process). */
function shellTarget(source: WindowClient, via: MessagePort | undefined, channelGone: AbortSignal): ShellTarget {
  const mux = via ? muxOf(via) : undefined;
  return {
    id: source.id,
    post: via ? (msg, transfer) => via.postMessage(msg, transfer) : (msg, transfer) => source.postMessage(msg, transfer),
    ...(mux ? { exchange: (first: unknown) => mux.open(first) } : {}),
    channelGone,
  };
}

/** The windows whose shell had an open channel: before this SW started (`remembered`), and since (saved as they change). */
function channelRemembrance(memory: ChannelMemory | undefined) {
  const remembered = (memory?.load() ?? Promise.resolve([])).then(
    (ids) => new Set(ids),
    () => new Set<string>(),
  );
  const withChannel = new Set<string>();
  return {
    remembered,
    rememberChannel(clientId: string, open: boolean): void {
      if (withChannel.has(clientId) === open) return;
      if (open) withChannel.add(clientId);
      else withChannel.delete(clientId);
      while (withChannel.size > MAX_REMEMBERED) withChannel.delete(withChannel.values().next().value!);
      memory?.save([...withChannel]);
    },
  };
}

/**
 * After a SW start: every window re-announces (its port, its excludes). Those that had a channel are waited for, up to
 * SW_SYNC_TIMEOUT_MS, until one has a channel (routing needs only one) or all answered without. `listen` installs
 * (undefined: removes) the hook told of each announcement.
 */
async function resync(
  scope: RegistryScope,
  remembered: Promise<Set<string>>,
  hasChannel: () => boolean,
  listen: (fn: ((clientId: string) => void) | undefined) => void,
): Promise<void> {
  const [windows, hadChannel] = await Promise.all([scope.clients.matchAll({ type: 'window' }), remembered]);
  for (const w of windows) w.postMessage({ type: 'wingman:sync' }, []);
  const silent = new Set(windows.filter((w) => hadChannel.has(w.id)).map((w) => w.id));
  if (silent.size === 0) return;
  await settleWithin<void>(SW_SYNC_TIMEOUT_MS, undefined, (settle) => {
    if (hasChannel()) return settle();
    listen((clientId) => {
      silent.delete(clientId);
      if (hasChannel() || silent.size === 0) settle();
    });
    return () => listen(undefined);
  });
}
