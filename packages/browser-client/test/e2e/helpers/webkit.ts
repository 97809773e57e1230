/**
 * WebKitGTK (the engine of Safari) for end-to-end tests: Debian's
 * MiniBrowser driven through WebKitWebDriver (`webkit2gtk-driver`) with
 * selenium-webdriver, on an Xvfb display of its own (WebKitGTK has no
 * headless mode). Each launch starts its own Xvfb, driver and browser and
 * stops them on close. Debian's WebKitGTK has no RTCPeerConnection: WebKit
 * reviewers take the shell + Service Worker relay path.
 *
 * WebKitPage / WebKitFrame give the shell helpers (support/shell.ts) the
 * `evaluate(fn, arg)`, `goto`, `url` and `mainFrame().childFrames()` they use
 * with Playwright and puppeteer-core pages; a frame is the shell's first
 * child frame, switched into for each call.
 */
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, By, type WebDriver } from 'selenium-webdriver';
import { startCommand, type Proc } from '../../../../../test/helpers/processes';
// WebKitWebDriver takes no port 0 and does not print the one it got: a free one is chosen for it.
import { freePort, waitForListening } from '../../../../../test/helpers/ports';
import { assertLoopbackOnly } from './browser';

/** Debian's `webkit2gtk-driver` package installs the driver here. */
export const WEBKIT_DRIVER_PATH = '/usr/bin/WebKitWebDriver';

/** Debian's `xvfb` package installs the virtual X server here. */
export const XVFB_PATH = '/usr/bin/Xvfb';

/** The browser WebKitWebDriver starts: MiniBrowser, from Debian's libwebkit2gtk-4.1-0 (a dependency of webkit2gtk-driver). */
export const MINIBROWSER_PATH = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Xvfb and the driver are ready in well under a second here; 30 s covers a loaded 2-core CI machine. */
export const WEBKIT_LAUNCH_TIMEOUT_MS = 30_000;

/** Bound on one script run in the page (executeAsyncScript): the shell helpers' own waits are shorter. */
export const WEBKIT_SCRIPT_TIMEOUT_MS = 30_000;

/** The outcome of a script in the page, as it crosses WebDriver. */
type Settled = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The script executeAsyncScript runs: calls the function (its source is
 * spliced in) with the argument and reports its settled value, so a thrown
 * error reaches Node with its message.
 */
function asyncScript(fnSource: string): string {
  return `const done = arguments[arguments.length - 1];
Promise.resolve()
  .then(() => (${fnSource})(arguments[0]))
  .then((value) => done({ ok: true, value: value === undefined ? null : value }), (e) => done({ ok: false, error: String(e && e.stack || e) }));`;
}

/** One WebDriver session: every command goes through `run`, one at a time (a frame switch and its script stay together). */
class Session {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly driver: WebDriver) {}

  run<T>(fn: (driver: WebDriver) => Promise<T>): Promise<T> {
    const next = this.queue.then(
      () => fn(this.driver),
      () => fn(this.driver),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  async click(inFrame: boolean, selector: string): Promise<void> {
    await this.run(async (d) => {
      await d.switchTo().defaultContent();
      if (inFrame) await d.switchTo().frame(0);
      await (await d.findElement(By.css(selector))).click();
    });
  }

  async evaluate<R, A>(inFrame: boolean, fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    const settled = await this.run(async (d) => {
      await d.switchTo().defaultContent();
      if (inFrame) await d.switchTo().frame(0);
      return d.executeAsyncScript<Settled>(asyncScript(fn.toString()), arg ?? null);
    });
    if (!settled.ok) throw new Error(`in WebKit: ${settled.error}`);
    return settled.value as R;
  }
}

/** The shell's app frame in WebKit (WebDriver switches into it for each call). */
export class WebKitFrame {
  constructor(private readonly session: Session) {}

  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.session.evaluate(true, fn, arg);
  }

  /** Clicks the element `selector` matches, as a user would (a WebDriver element click). */
  click(selector: string): Promise<void> {
    return this.session.click(true, selector);
  }
}

/** The top-level page in WebKit, shaped like the Playwright / puppeteer-core pages the shell helpers take. */
export class WebKitPage {
  private lastUrl = 'about:blank';
  private readonly frame: WebKitFrame;
  private hasFrame = false;

  constructor(private readonly session: Session) {
    this.frame = new WebKitFrame(session);
  }

  get driver(): WebDriver {
    return this.session.driver;
  }

  async goto(url: string): Promise<void> {
    await this.session.run((d) => d.get(url));
    this.lastUrl = url;
  }

  /** The top-level URL as last read (refreshed by every frame lookup). */
  url(): string {
    return this.lastUrl;
  }

  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
    return this.session.evaluate(false, fn, arg);
  }

  /** Clicks the element `selector` matches in the top-level document. */
  click(selector: string): Promise<void> {
    return this.session.click(false, selector);
  }

  /** Reads the top-level URL and whether the shell has its app frame (before mainFrame(), which is synchronous). */
  async refresh(): Promise<void> {
    const state = await this.evaluate(() => ({ url: location.href, frames: window.frames.length }), undefined);
    this.lastUrl = state.url;
    this.hasFrame = state.frames > 0;
  }

  /** The frames as last read by refresh(): the shell's app frame, if any. */
  mainFrame(): { childFrames(): WebKitFrame[] } {
    return { childFrames: () => (this.hasFrame ? [this.frame] : []) };
  }

  /** Always open until close (the shell helpers ask). */
  isClosed(): boolean {
    return false;
  }
}

export interface LaunchWebKitOptions {
  /**
   * Where downloads land: WebKitGTK saves a download without asking to the
   * XDG download directory, which GLib reads from `$XDG_CONFIG_HOME/user-dirs.dirs`;
   * the browser gets a config directory of its own naming this one.
   */
  downloadDir?: string;
}

export interface LaunchedWebKit {
  page: WebKitPage;
  driver: WebDriver;
  /** Ends the WebDriver session, then stops the driver and Xvfb; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts Xvfb, WebKitWebDriver and a MiniBrowser session. Always `await
 * close()` in afterEach/afterAll. Throws with the install command when a
 * piece is missing, and refuses to run outside a loopback-only network
 * namespace.
 */
export async function launchWebKit(options: LaunchWebKitOptions = {}): Promise<LaunchedWebKit> {
  const missing: string[] = [];
  for (const [path, pkg] of [
    [WEBKIT_DRIVER_PATH, 'webkit2gtk-driver'],
    [MINIBROWSER_PATH, 'webkit2gtk-driver'],
    [XVFB_PATH, 'xvfb'],
  ] as const) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      missing.push(`${path} not found: apt-get install ${pkg}`);
    }
  }
  if (missing.length > 0) throw new Error(`WebKit end-to-end tests need WebKitGTK's driver and Xvfb: ${missing.join('; ')}`);
  assertLoopbackOnly();

  const started: Proc[] = [];
  let driver: WebDriver | undefined;
  let configDir: string | undefined;
  const stop = async () => {
    await driver?.quit().catch(() => undefined);
    for (const p of started.reverse()) await p.kill();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  };
  try {
    // -displayfd: Xvfb picks a free display and writes its number to stdout.
    const xvfb = startCommand(XVFB_PATH, ['-displayfd', '1', '-nolisten', 'tcp', '-screen', '0', '1280x800x24']);
    started.push(xvfb);
    const display = await xvfb.waitForLine(/^\d+$/, { timeoutMs: WEBKIT_LAUNCH_TIMEOUT_MS });
    const port = await freePort();
    const env: Record<string, string> = { DISPLAY: `:${display.trim()}` };
    if (options.downloadDir) {
      configDir = mkdtempSync(join(tmpdir(), 'wingman-webkit-config-'));
      writeFileSync(join(configDir, 'user-dirs.dirs'), `XDG_DOWNLOAD_DIR="${options.downloadDir}"\n`);
      env.XDG_CONFIG_HOME = configDir;
    }
    const webDriver = startCommand(WEBKIT_DRIVER_PATH, [`--port=${port}`, '--host=local'], env);
    started.push(webDriver);
    // The driver prints nothing when it listens: poll its port.
    await waitForListening(port, WEBKIT_DRIVER_PATH, WEBKIT_LAUNCH_TIMEOUT_MS);
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation'] },
      })
      .build();
    await driver.manage().setTimeouts({ script: WEBKIT_SCRIPT_TIMEOUT_MS, pageLoad: WEBKIT_LAUNCH_TIMEOUT_MS });
    const session = new Session(driver);
    let closed = false;
    return {
      page: new WebKitPage(session),
      driver,
      async close() {
        if (closed) return;
        closed = true;
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw new Error(`could not start WebKitGTK (${WEBKIT_DRIVER_PATH} on Xvfb): ${(err as Error).message}`);
  }
}
