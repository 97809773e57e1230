/**
 * The three browser engines a reviewer may use, behind one launcher, for
 * tests that run the same steps in each: Chromium (playwright-core) and
 * Firefox (puppeteer-core) have WebRTC, so their shell goes P2P; Debian's
 * WebKitGTK (selenium-webdriver) has none, so its shell stays on the
 * Service Worker's relay.
 */
import type { AnyPage } from '../support/shell';
import { launchChromium, unregisterServiceWorkers } from './browser';
import { launchFirefox } from './firefox';
import { launchWebKit } from './webkit';

export type EngineName = 'Chromium' | 'Firefox' | 'WebKit';

/** Each engine with the transport its shell reaches here. */
export const ENGINES: ReadonlyArray<readonly [EngineName, 'p2p' | 'relay']> = [
  ['Chromium', 'p2p'],
  ['Firefox', 'p2p'],
  ['WebKit', 'relay'],
];

export interface LaunchedEngine {
  page: AnyPage;
  /** Unregisters the page's Service Workers, then closes the browser; safe to call twice. */
  close(): Promise<void>;
}

/** The engines with WebRTC: their shell goes P2P, or (launched with `webRtc: false`) takes the Service Worker's relay. */
export const WEBRTC_ENGINES: readonly EngineName[] = ['Chromium', 'Firefox'];

/**
 * Starts `name` with a fresh profile (each helper's own checks and install
 * hints apply). `webRtc: false` (Chromium, Firefox): without RTCPeerConnection.
 */
export async function launchEngine(name: EngineName, options: { webRtc?: boolean } = {}): Promise<LaunchedEngine> {
  const launched = name === 'Chromium' ? await launchChromium(options) : name === 'Firefox' ? await launchFirefox(options) : await launchWebKit();
  return {
    page: launched.page,
    async close() {
      await unregisterServiceWorkers(launched.page).catch(() => undefined);
      await launched.close();
    },
  };
}

/** One engine with WebRTC launched twice for a describe block: as is (its shell goes P2P) and without WebRTC (the Service Worker's relay). */
export interface EnginePair {
  readonly browser: LaunchedEngine;
  readonly noRtc: LaunchedEngine;
  /** The page whose shell takes `transport`. */
  pageFor(transport: 'p2p' | 'relay'): AnyPage;
}

/** A pair's browsers as each started, and the first launch that failed. */
interface PairLaunch {
  browser?: LaunchedEngine;
  noRtc?: LaunchedEngine;
  failure?: Error;
}

/** Launches `name`'s pair, both at once (independent of each other); `done` settles once both have, and never rejects. */
function launchPair(name: EngineName): { pair: PairLaunch; done: Promise<void> } {
  const pair: PairLaunch = {};
  const done = Promise.allSettled([
    launchEngine(name).then((b) => (pair.browser = b)),
    launchEngine(name, { webRtc: false }).then((b) => (pair.noRtc = b)),
  ]).then((results) => {
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) pair.failure = failed.reason as Error;
  });
  return { pair, done };
}

/** Closes what of the pair started (closing twice is safe). */
async function closePair(pair: PairLaunch | undefined): Promise<void> {
  await Promise.all([pair?.browser?.close(), pair?.noRtc?.close()]);
}

/** The pair `current()` holds, for tests (throws when a browser did not start). */
function pairOf(name: EngineName, current: () => PairLaunch | undefined): EnginePair {
  const launched = (engine: LaunchedEngine | undefined) => {
    if (!engine) throw new Error(`${name} was not launched (use the pair inside its describe block's tests)`);
    return engine;
  };
  return {
    get browser() {
      return launched(current()?.browser);
    },
    get noRtc() {
      return launched(current()?.noRtc);
    },
    pageFor: (transport) => launched(transport === 'p2p' ? current()?.browser : current()?.noRtc).page,
  };
}

/** Launches the pair in the enclosing describe's beforeAll and closes it in its afterAll. */
export function useEnginePair(name: EngineName): EnginePair {
  let launch: { pair: PairLaunch; done: Promise<void> } | undefined;
  beforeAll(async () => {
    launch = launchPair(name);
    await launch.done;
    if (launch.pair.failure !== undefined) throw launch.pair.failure;
  });
  afterAll(async () => {
    await closePair(launch?.pair);
  });
  return pairOf(name, () => launch?.pair);
}

/**
 * The pairs of `names` for a describe block with a nested describe per engine.
 * Every pair starts launching in this block's beforeAll and goes on meanwhile:
 * through this block's later beforeAll hooks (call this before them: the app,
 * the tunnel server start alongside) and the earlier engines' tests.
 * `pair(name)`, called in that engine's describe, waits for its pair in that
 * describe's beforeAll and closes it in its afterAll; this block's afterAll
 * closes whatever is still open.
 */
export function useEnginePairs(names: readonly EngineName[]): { pair(name: EngineName): EnginePair } {
  const launches = new Map<EngineName, { pair: PairLaunch; done: Promise<void> }>();
  beforeAll(() => {
    for (const name of names) launches.set(name, launchPair(name));
  });
  afterAll(async () => {
    await Promise.all(
      [...launches.values()].map(async ({ pair, done }) => {
        await done;
        await closePair(pair);
      }),
    );
  });
  return {
    pair(name) {
      beforeAll(async () => {
        const launch = launches.get(name);
        if (!launch) throw new Error(`${name} is not among the pairs launched (${names.join(', ')})`);
        await launch.done;
        if (launch.pair.failure !== undefined) throw launch.pair.failure;
      });
      afterAll(async () => {
        await closePair(launches.get(name)?.pair);
      });
      return pairOf(name, () => launches.get(name)?.pair);
    },
  };
}
