/**
 * The shell registry after a Service Worker restart: its first request asks
 * every window to re-announce (`wingman:sync`) but waits only for the
 * windows that had an open channel before the restart (remembered across
 * it); a new shell (a reload, a first visit, P2P blocked) cannot carry the
 * request, so the request leaves for the relay at once.
 */
import type { ShellAnnounce } from '../../src/shared/messages';
import { createShellRegistry, type ChannelMemory, type RegistryScope } from '../../src/sw/shell-registry';

interface FakeWindow {
  id: string;
  posted: unknown[];
  postMessage(m: unknown): void;
}

function fakeWindow(id: string): FakeWindow {
  const w: FakeWindow = { id, posted: [], postMessage: (m) => w.posted.push(m) };
  return w;
}

function fakeScope(windows: FakeWindow[]): RegistryScope {
  return {
    clients: {
      matchAll: async () => windows,
      get: async (id: string) => windows.find((w) => w.id === id),
    },
  };
}

function memory(initial: string[]): ChannelMemory & { saved: string[][] } {
  const saved: string[][] = [];
  return { saved, load: async () => initial, save: (ids) => saved.push(ids) };
}

const announce = (shellId: string, p2p: boolean): ShellAnnounce => ({ type: 'wingman:shell', shellId, p2p, exclude: [] });

/** Lets every pending promise job and I/O callback run (far less than the sync's timeout). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('shell registry after a Service Worker restart', () => {
  it('asks every window to re-announce but does not wait for windows that had no channel', async () => {
    const fresh = fakeWindow('new-shell');
    const registry = createShellRegistry(fakeScope([fresh]), memory(['closed-tab']));
    let synced = false;
    void registry.ensureSynced().then(() => (synced = true));
    await settle();
    expect(synced).toBe(true);
    expect(fresh.posted).toEqual([{ type: 'wingman:sync' }]);
  });

  it('waits for a window that had a channel until it re-announces with its channel', async () => {
    const tab = fakeWindow('p2p-tab');
    const registry = createShellRegistry(fakeScope([tab, fakeWindow('other')]), memory(['p2p-tab']));
    let synced = false;
    void registry.ensureSynced().then(() => (synced = true));
    await settle();
    expect(synced).toBe(false);
    registry.shellAnnounced(announce('s1', true), tab);
    await settle();
    expect(synced).toBe(true);
    expect(await registry.pick('frame', '')).toMatchObject({ id: 'p2p-tab' });
  });

  it('remembers which windows have an open channel as they announce it', () => {
    const mem = memory([]);
    const registry = createShellRegistry(fakeScope([]), mem);
    const a = fakeWindow('a');
    const b = fakeWindow('b');
    registry.shellAnnounced(announce('sa', false), a);
    registry.shellAnnounced(announce('sa', true), a);
    registry.shellAnnounced(announce('sb', true), b);
    registry.shellAnnounced(announce('sb', true), b);
    registry.shellAnnounced(announce('sa', false), a);
    expect(mem.saved).toEqual([['a'], ['a', 'b'], ['b']]);
  });
});

describe("a shell's channelGone signal", () => {
  it('stays the same while the shell re-announces its channel, and aborts once it announces it has none', async () => {
    const registry = createShellRegistry(fakeScope([fakeWindow('tab')]));
    const tab = fakeWindow('tab');
    registry.shellAnnounced(announce('s', true), tab);
    const first = (await registry.pick('', ''))!.channelGone!;
    registry.shellAnnounced(announce('s', true), tab);
    expect((await registry.pick('', ''))!.channelGone).toBe(first);
    expect(first.aborted).toBe(false);
    // pagehide: the leaving page announces it has no channel.
    registry.shellAnnounced(announce('s', false), tab);
    expect(first.aborted).toBe(true);
  });

  it("aborts when the window's shell is replaced or the window is gone", async () => {
    const windows = [fakeWindow('tab')];
    const registry = createShellRegistry(fakeScope(windows));
    registry.shellAnnounced(announce('old', true), windows[0]!);
    const old = (await registry.pick('', ''))!.channelGone!;
    registry.shellAnnounced(announce('new', true), windows[0]!);
    expect(old.aborted).toBe(true);
    const current = (await registry.pick('', ''))!.channelGone!;
    expect(current.aborted).toBe(false);
    // Another tab asks; the window is gone by then.
    windows.length = 0;
    expect(await registry.pick('other', '')).toBeUndefined();
    expect(current.aborted).toBe(true);
  });
});

describe('a shell the registry forgets', () => {
  it("is told to the registry's owner (its pending loss probe goes with it), when replaced or when its window is gone", async () => {
    const tab = fakeWindow('tab');
    const windows = [tab];
    const gone: string[] = [];
    const registry = createShellRegistry(fakeScope(windows), memory([]), (shellId) => gone.push(shellId));
    registry.shellAnnounced(announce('s1', true), tab);
    registry.shellAnnounced(announce('s1', true), tab);
    expect(gone).toEqual([]);
    // The same window's new shell (a reload) replaces it.
    registry.shellAnnounced(announce('s2', true), tab);
    expect(gone).toEqual(['s1']);
    windows.length = 0;
    expect(await registry.pick('', '')).toBeUndefined();
    expect(gone).toEqual(['s1', 's2']);
  });
});

describe("a private session's shell without a channel", () => {
  it('is known as such until it announces its channel, and a wait for the channel ends with that shell', async () => {
    const tab = fakeWindow('private-tab');
    const registry = createShellRegistry(fakeScope([tab]), memory([]));
    expect(registry.privateWithoutChannel()).toBe(false);
    registry.shellAnnounced({ ...announce('s1', false), private: true }, tab);
    expect(registry.privateWithoutChannel()).toBe(true);
    // The frame's first request arrives before the shell's word that its channel opened.
    const picked = registry.waitForChannel('frame', 'frame', 60_000);
    registry.shellAnnounced({ ...announce('s1', true), private: true }, tab);
    expect(await picked).toMatchObject({ id: 'private-tab', private: true });
    expect(registry.privateWithoutChannel()).toBe(false);
  });

  it('is none when the session is not private', () => {
    const tab = fakeWindow('tab');
    const registry = createShellRegistry(fakeScope([tab]), memory([]));
    registry.shellAnnounced(announce('s1', false), tab);
    expect(registry.privateWithoutChannel()).toBe(false);
  });
});

describe("the developer's excluded prefixes", () => {
  it('exclude a path that starts with one announced by any shell, and no other', () => {
    const registry = createShellRegistry(fakeScope([]), memory([]));
    expect(registry.isExcluded('/admin/users')).toBe(false);
    registry.shellAnnounced({ ...announce('s1', true), exclude: ['/api/upload', '/admin'] }, fakeWindow('a'));
    registry.shellAnnounced(announce('s2', true), fakeWindow('b'));
    expect(registry.isExcluded('/admin/users')).toBe(true);
    expect(registry.isExcluded('/api/upload?x=1')).toBe(true);
    expect(registry.isExcluded('/api/other')).toBe(false);
  });
});
