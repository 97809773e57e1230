/**
 * Headless Debian Firefox ESR for end-to-end tests, driven by puppeteer-core
 * over WebDriver BiDi (Playwright needs its own patched Firefox build and
 * cannot drive Debian's; docs/testing.md). Each launch gets a fresh profile
 * that is deleted on close, as launchChromium()'s: a copy of one that Firefox
 * has started in once and that holds nothing of any test (profileTemplate).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, cpSync, existsSync, mkdtempSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
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

/** Starts Firefox ESR headless in the profile `dir` with `prefs` on top of FIREFOX_PREFS. */
function launchIn(dir: string, prefs: Record<string, unknown> = {}): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    userDataDir: dir,
    timeout: FIREFOX_LAUNCH_TIMEOUT_MS,
    extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
  });
}

/** Closes `browser` over BiDi and waits for its process to exit, or kills it (and its content processes with it) after FIREFOX_CLOSE_TIMEOUT_MS; true: it quit by itself. */
async function quit(browser: Browser): Promise<boolean> {
  const proc = browser.process();
  const exited =
    !proc || proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    Promise.all([browser.close().catch(() => undefined), exited]).then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), FIREFOX_CLOSE_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!inTime) proc?.kill('SIGKILL');
  return inTime;
}

/**
 * A profile Firefox has started in once with FIREFOX_PREFS and no page: a first start writes the profile's databases
 * and caches, so a launch in a copy of it costs less (launch, one page and close: ~3.8 s of CPU here against ~6.0 in
 * an empty profile). Made by whichever test process needs it first, once per Firefox build and prefs (both in its
 * name), published by a rename only after a clean quit; each launch writes its own prefs over the copy's (user.js).
 */
async function profileTemplate(): Promise<string> {
  const build = statSync(realpathSync(FIREFOX_PATH));
  const key = createHash('sha256')
    .update(JSON.stringify([build.size, build.mtimeMs, FIREFOX_PREFS]))
    .digest('hex')
    .slice(0, 16);
  const template = join(tmpdir(), `wingman-firefox-profile-${key}`);
  if (existsSync(template)) return template;
  const building = mkdtempSync(join(tmpdir(), 'wingman-firefox-profile-building-'));
  try {
    if (!(await quit(await launchIn(building)))) throw new Error(`Firefox did not quit within ${FIREFOX_CLOSE_TIMEOUT_MS} ms of being asked`);
    renameSync(building, template);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    // Another test process published it first.
    if (existsSync(template)) return template;
    throw new Error(`could not make a Firefox profile to copy: ${(err as Error).message}`);
  }
  return template;
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
    cpSync(await profileTemplate(), profileDir, { recursive: true });
    browser = await launchIn(profileDir, {
      ...(options.webRtc === false ? { 'media.peerconnection.enabled': false } : {}),
      ...(options.downloadDir ? downloadPrefs(options.downloadDir) : {}),
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
        try {
          await quit(launched);
        } finally {
          rmSync(profileDir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    if (browser) await quit(browser);
    rmSync(profileDir, { recursive: true, force: true });
    throw new Error(`could not start ${FIREFOX_PATH}: ${(err as Error).message}`);
  }
}
