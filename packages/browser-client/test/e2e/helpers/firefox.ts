/**
 * Headless Debian Firefox ESR for end-to-end tests, driven by puppeteer-core
 * over WebDriver BiDi (Playwright needs its own patched Firefox build and
 * cannot drive Debian's; docs/testing.md). Each launch
 * gets a fresh, empty profile that is deleted on close, as launchChromium()'s.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { assertLoopbackOnly } from './browser';

/** Debian's `firefox-esr` package installs here (`apt-get install firefox-esr`). */
export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/**
 * Firefox ESR starts in 2–4 s here (a new profile is written on first start);
 * 60 s covers a cold disk cache on a loaded 2-core CI machine.
 */
export const FIREFOX_LAUNCH_TIMEOUT_MS = 60_000;

/**
 * How long close() waits for Firefox to quit over BiDi before it kills the
 * process: puppeteer's close can hang on a browser that stopped answering,
 * and a Firefox left behind keeps the test run's network namespace alive.
 */
export const FIREFOX_CLOSE_TIMEOUT_MS = 10_000;

/**
 * Preferences on top of what every profile gets anyway: puppeteer-core writes
 * prefs that turn off updates, safe browsing and Shield, and Firefox's remote
 * agent applies its "recommended preferences" (no telemetry, captive-portal or
 * connectivity checks) whenever it is driven remotely. `*.localhost` needs
 * nothing: Firefox resolves it to loopback by itself.
 *
 * Both of these are needed for a data channel to the agent on loopback
 * (docs/testing.md, "WebRTC on loopback"). Checked here one at a time: with
 * either alone, or neither, the shell ends on "ICE failed"; also with
 * `media.peerconnection.ice.obfuscate_host_addresses` or
 * `media.peerconnection.ice.default_address_only` set false in place of the
 * microphone permission. Why Firefox wants media permission for loopback
 * candidates was not pinned down.
 * - `media.peerconnection.ice.loopback`: allow loopback candidates at all;
 * - `permissions.default.microphone` = 1: every page has microphone permission.
 */
export const FIREFOX_PREFS: Readonly<Record<string, unknown>> = {
  'media.peerconnection.ice.loopback': true,
  'permissions.default.microphone': 1,
};

export interface LaunchFirefoxOptions {
  /**
   * false: the browser has no RTCPeerConnection (`media.peerconnection.enabled`
   * off, as in Debian's WebKitGTK), so the shell takes the Service Worker's
   * relay. Default true.
   */
  webRtc?: boolean;
  /** Save downloads to this directory without asking (default: Firefox's own handling). */
  downloadDir?: string;
}

/** Prefs that save every download to `dir` without a dialog. */
const downloadPrefs = (dir: string): Record<string, unknown> => ({
  'browser.download.dir': dir,
  'browser.download.folderList': 2,
  'browser.download.useDownloadDir': true,
  'browser.download.always_ask_before_handling_new_types': false,
});

export interface LaunchedFirefox {
  browser: Browser;
  /** A page opened in the browser, ready to use. */
  page: Page;
  /** Closes the browser and deletes the profile directory; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts headless Firefox ESR with a fresh profile. Always `await close()` in
 * afterEach/afterAll. Throws with the install command when Firefox is
 * missing, and refuses to run outside a loopback-only network namespace.
 */
export async function launchFirefox(options: LaunchFirefoxOptions = {}): Promise<LaunchedFirefox> {
  try {
    accessSync(FIREFOX_PATH, constants.X_OK);
  } catch {
    throw new Error(`${FIREFOX_PATH} not found: install Debian's Firefox ESR: apt-get install firefox-esr`);
  }
  assertLoopbackOnly();

  const profileDir = mkdtempSync(join(tmpdir(), 'wingman-firefox-'));
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      userDataDir: profileDir,
      timeout: FIREFOX_LAUNCH_TIMEOUT_MS,
      extraPrefsFirefox: {
        ...FIREFOX_PREFS,
        ...(options.webRtc === false ? { 'media.peerconnection.enabled': false } : {}),
        ...(options.downloadDir ? downloadPrefs(options.downloadDir) : {}),
      },
    });
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    const launched = browser;
    let closed = false;
    return {
      browser: launched,
      page,
      async close() {
        if (closed) return;
        closed = true;
        const proc = launched.process();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            launched.close(),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, FIREFOX_CLOSE_TIMEOUT_MS);
            }),
          ]);
        } finally {
          clearTimeout(timer);
          // Still running (a hung close, or close() threw): kill it, and the content processes with it.
          if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
          rmSync(profileDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await browser?.close().catch(() => undefined);
    rmSync(profileDir, { recursive: true, force: true });
    throw new Error(`could not start ${FIREFOX_PATH}: ${(err as Error).message}`);
  }
}
