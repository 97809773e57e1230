/**
 * Headless Debian Chromium for end-to-end tests, driven by playwright-core
 * (Playwright's own browser download does not work here; docs/testing.md).
 * Each launch gets a fresh, empty profile that is deleted on close, so Service
 * Workers, caches and cookies never leak from one test file to the next.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { inPage, type AnyPage } from '../support/shell';

/** Debian's `chromium` package installs here (`apt-get install chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Chromium starts in ~1 s here; 30 s covers a cold disk cache on a loaded 2-core CI machine. */
export const LAUNCH_TIMEOUT_MS = 30_000;

/**
 * Flags for a closed, loopback-only machine:
 * - the background/component/sync flags stop Chromium dialling Google services,
 *   which this network refuses many times a second (env doc "Known to work");
 * - `--disable-quic`: no UDP to anything but our own WebRTC peers;
 * - `--allow-loopback-in-peer-connection` + WebRtcHideLocalIpsWithMdns disabled:
 *   the only way two peers on 127.0.0.1 form a pair (docs/testing.md);
 * - `--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

export interface LaunchChromiumOptions {
  /**
   * Grant camera and microphone permission to every origin. Chromium only
   * exposes host candidates for a page-to-page connection with it
   * (docs/testing.md, "WebRTC on loopback").
   * Default true.
   */
  grantMediaPermissions?: boolean;
  /**
   * Refuse to start unless the only network interface is `lo`, i.e. we run in
   * the loopback-only namespace that `npm test` creates. Default true; the lab
   * sets false because it builds its own namespaces with veth pairs.
   */
  requireLoopbackOnly?: boolean;
  /** Extra Chromium switches, appended to {@link CHROMIUM_ARGS}. */
  extraArgs?: string[];
  /**
   * false: every page of the browser lacks RTCPeerConnection (as Debian's
   * WebKitGTK does), so the shell takes the Service Worker's relay. Default true.
   */
  webRtc?: boolean;
  /** Answer HTTP Basic challenges with these (a password-protected session). Default: none, the 401 page shows. */
  httpCredentials?: { username: string; password: string };
  /**
   * Extra environment of the browser process, e.g. `HOME` pointing at a
   * directory whose `.pki/nssdb` trusts a test CA (Chromium on Linux reads
   * locally trusted roots from that NSS database).
   */
  env?: Record<string, string>;
}

export interface LaunchedChromium {
  /** The persistent context (one profile); open pages with `newPage()`. */
  context: BrowserContext;
  /** A page opened in the context, ready to use. */
  page: Page;
  /** Closes the browser and deletes the profile directory; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile. Always `await close()` in
 * afterEach/afterAll. Throws with the install command when Chromium is missing.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<LaunchedChromium> {
  const { grantMediaPermissions = true, requireLoopbackOnly = true, extraArgs = [], httpCredentials, env } = options;
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(`${CHROMIUM_PATH} not found: install Debian chromium: apt-get install chromium`);
  }
  if (requireLoopbackOnly) assertLoopbackOnly();

  const profileDir = mkdtempSync(join(tmpdir(), 'wingman-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: LAUNCH_TIMEOUT_MS,
      permissions: grantMediaPermissions ? ['camera', 'microphone'] : [],
      // Service Workers are the point of these tests; make sure nothing blocks them.
      serviceWorkers: 'allow',
      ...(httpCredentials ? { httpCredentials } : {}),
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
  } catch (err) {
    rmSync(profileDir, { recursive: true, force: true });
    throw new Error(`could not start ${CHROMIUM_PATH}: ${(err as Error).message}`);
  }
  if (options.webRtc === false) {
    await context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closed = false;
  return {
    context,
    page,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        rmSync(profileDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Unregisters every Service Worker of the page's origin (a Chromium or a
 * Firefox page), so the next test starts uncontrolled (docs/testing.md: Service Workers unregistered after each).
 * For a browser its tests share: one closed after the test needs none, and an unregister waits behind any job
 * the browser holds for the scope.
 */
export async function unregisterServiceWorkers(page: AnyPage): Promise<number> {
  if (page.isClosed() || !/^https?:/.test(page.url())) return 0;
  return inPage(
    page,
    async () => {
      const registrations = await navigator.serviceWorker.getRegistrations();
      await Promise.all(registrations.map((r) => r.unregister()));
      return registrations.length;
    },
    undefined,
  );
}

/**
 * Throws unless `lo` is the only network interface. Browsers and WebRTC may
 * only reach loopback; inside `npm test`'s namespace nothing else exists.
 */
export function assertLoopbackOnly(): void {
  const others = Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
  if (others.length > 0) {
    throw new Error(
      `browser tests must run in a loopback-only network namespace, but this one has ${others.join(', ')}: ` +
        "run them through `npm test` (or: unshare -n sh -c 'ip link set lo up && npx jest --selectProjects e2e --runInBand')",
    );
  }
}
