/**
 * The server's switches of the Service Worker's speed mechanisms
 * (sw/switches.ts), as shells announce them, and the mechanisms that read
 * them outside the routing rules (route-decision.test.ts, bulk-race.test.ts):
 * the frame prefetch with the shell copy (sw/navigation.ts).
 */
import type { SpeedSwitch } from '@wingman/protocol';
import { SHELL_HEADER } from '../../src/shared/constants';
import type { KvStore } from '../../src/sw/idb';
import { createNavigation, type NavigationEvent } from '../../src/sw/navigation';
import type { Obtained } from '../../src/sw/obtained';
import { createSwitches } from '../../src/sw/switches';

const ORIGIN = 'http://s1.localhost:8080';

describe("the SW's switches", () => {
  it('are all on until a shell says otherwise; the latest list told wins, an announcement without one is no news', () => {
    const s = createSwitches();
    expect(s.on('bulkRace')).toBe(true);
    s.announced({ off: ['bulkRace', 'navigationPrefetch'] });
    expect([s.on('bulkRace'), s.on('navigationPrefetch'), s.on('pathChoice')]).toEqual([false, false, true]);
    s.announced({});
    expect(s.on('bulkRace')).toBe(false);
    s.announced({ off: [] });
    expect(s.on('bulkRace')).toBe(true);
  });
});

describe('the frame prefetch and the shell copy', () => {
  const SHELL = '<!doctype html><title>shell</title>';
  function setUp(off: SpeedSwitch[]) {
    const stored = new Map<string, unknown>();
    const kv: KvStore = {
      get: <T>(key: string) => Promise.resolve(stored.get(key) as T | undefined),
      put: (key, value) => Promise.resolve(void stored.set(key, value)),
    };
    let shellFetches = 0;
    const fetchFn = (() => {
      shellFetches++;
      return Promise.resolve(new Response(SHELL, { headers: { 'content-type': 'text/html', [SHELL_HEADER]: '1' } }));
    }) as unknown as typeof fetch;
    const switches = createSwitches();
    const navigation = createNavigation(kv, ORIGIN, { relayHeaderFor: () => Promise.resolve('') }, fetchFn, switches);
    switches.announced({ off });
    return { navigation, switches, stored, fetches: () => shellFetches };
  }
  /** A top-level navigation to /app, as the SW sees it: what it answered with and whether it fetched the frame's document. */
  async function navigate(navigation: ReturnType<typeof createNavigation>) {
    const url = new URL('/app', ORIGIN);
    const headers = new Headers();
    const request = { url: url.href, method: 'GET', mode: 'navigate', destination: 'document', headers };
    const answers: Response[] = [];
    let ran = 0;
    const event = { request, waitUntil: () => undefined, respondWith: (r: Response) => answers.push(r) } as unknown as NavigationEvent;
    navigation.topLevel(event, url, () => {
      ran++;
      return Promise.resolve({ kind: 'final', response: new Response('app') } as Obtained);
    });
    const frameRequest = { ...request, destination: 'iframe' } as unknown as Request;
    const taken = navigation.frameDocument(
      frameRequest,
      url,
      () => Promise.reject(new Error('fetched again')),
      () => false,
    );
    return { answers, ran, taken: taken ? await taken : undefined };
  }

  it('keeps a copy of the shell, answers a navigation with it and fetches its frame document ahead', async () => {
    const { navigation, fetches } = setUp([]);
    await navigation.shellRuns();
    expect(fetches()).toBe(1);
    const { answers, ran, taken } = await navigate(navigation);
    expect(await answers[0]?.text()).toBe(SHELL);
    expect(ran).toBe(1);
    expect(taken).toMatchObject({ kind: 'final' });
  });

  it('does neither when switched off (P2P_NAVIGATION_PREFETCH=false), and forgets a copy it kept', async () => {
    const { navigation, switches, stored, fetches } = setUp([]);
    await navigation.shellRuns();
    switches.announced({ off: ['navigationPrefetch'] });
    await navigation.shellRuns();
    expect(stored.get('shell-copy')).toBeNull();
    expect(navigation.shellRuns()).toBeUndefined();
    const { answers, ran, taken } = await navigate(navigation);
    expect(answers).toEqual([]);
    expect(ran).toBe(0);
    expect(taken).toBeUndefined();
    expect(fetches()).toBe(1);
  });
});
