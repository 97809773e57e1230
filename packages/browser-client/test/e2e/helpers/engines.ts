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

/** Launches the pair in the enclosing describe's beforeAll and closes it in its afterAll. */
export function useEnginePair(name: EngineName): EnginePair {
  let browser: LaunchedEngine | undefined;
  let noRtc: LaunchedEngine | undefined;
  beforeAll(async () => {
    // Independent of each other: launched at once, each kept as it comes (afterAll closes what started, whatever failed).
    const launched = await Promise.allSettled([launchEngine(name).then((b) => (browser = b)), launchEngine(name, { webRtc: false }).then((b) => (noRtc = b))]);
    for (const l of launched) if (l.status === 'rejected') throw l.reason;
  });
  afterAll(async () => {
    await browser?.close();
    await noRtc?.close();
  });
  const launched = (engine: LaunchedEngine | undefined) => {
    if (!engine) throw new Error(`${name} was not launched (use the pair inside its describe block's tests)`);
    return engine;
  };
  return {
    get browser() {
      return launched(browser);
    },
    get noRtc() {
      return launched(noRtc);
    },
    pageFor: (transport) => launched(transport === 'p2p' ? browser : noRtc).page,
  };
}
