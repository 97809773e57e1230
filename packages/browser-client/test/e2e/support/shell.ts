/**
 * Helpers for the shell page: open it, reach the app frame, wait for a
 * transport, fetch from inside the app. Every wait is bounded. The ones that
 * take an AnyPage / AnyFrame serve Playwright (Chromium) and puppeteer-core
 * (Firefox) pages alike.
 */
import type { Frame, Page } from 'playwright-core';
import type { Frame as PuppeteerFrame, Page as PuppeteerPage } from 'puppeteer-core';
import { until } from '../../../../../test/helpers/wait';
import { DIAGNOSTICS_CHANNEL } from '../../../src/shared/constants';
import type { WebKitFrame, WebKitPage } from '../helpers/webkit';

export type AnyPage = Page | PuppeteerPage | WebKitPage;
export type AnyFrame = Frame | PuppeteerFrame | WebKitFrame;

/**
 * Runs `fn(arg)` in the page or frame and resolves with its (serialisable)
 * result. Both drivers call `evaluate(fn, arg)` alike; only their typings
 * differ (puppeteer-core's wraps the argument in FlattenHandle<>).
 */
export function inPage<R, A>(target: AnyPage | AnyFrame, fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> {
  return (target as unknown as { evaluate(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> }).evaluate(fn, arg);
}

/** How often the page's state is read where the page announces nothing to Node. */
const PAGE_POLL_MS = 50;

/** What waitForApp() needs of a page of either driver, keeping its frame type. */
interface PageWithFrames<F extends AnyFrame> {
  mainFrame(): { childFrames(): F[] };
  url(): string;
  /** WebDriver pages read their frames and URL ahead of the synchronous calls above. */
  refresh?(): Promise<void>;
}

/** In-page waits: loopback ICE takes well under a second; 20 s covers a loaded CI machine. */
export const WAIT_MS = 20_000;

export interface ShellStatus {
  /** On P2P: the channel is verified with the link key. */
  verified?: boolean;
  transport: 'p2p' | 'relay';
  reason?: string;
  rttMs?: number;
  connectMs?: number;
  viewerId?: string;
  /** On P2P: the channel's loss probe has given no verdict yet (the Service Worker sends bursts around the channel). */
  probing?: boolean;
  p2pReadyMs?: number;
  activeRequests: number;
  /** Set by waitForTransport(page, 'p2p'): how its round trip to the Service Worker ended (SwRoundTrip). */
  swRoundTrip?: SwRoundTrip;
}

/**
 * How waitForTransport's wait for the Service Worker ended: `answered` (the
 * SW lists this shell among those it would send a request over, on the
 * diagnostics channel), or it proves nothing: `no answer` (no SW answered
 * within SW_ANSWER_WAIT_MS: an app's own SW, say) or `unknown` (the SW
 * answered, and never listed this shell). A test that expects P2P next can
 * name it when it fails.
 */
export type SwRoundTrip = 'answered' | 'no answer' | `unknown (the SW knows ${string})`;

/** The app's frame (the shell's only child frame). */
export function appFrame(page: Page): Frame {
  const frame = page.mainFrame().childFrames()[0];
  if (!frame) throw new Error('the shell has no app frame');
  return frame;
}

/** Waits until the app frame shows a document whose `window.pageName` is set, and returns the frame. */
export async function waitForApp<F extends AnyFrame>(page: PageWithFrames<F>, pageName?: string): Promise<F> {
  // Polled rather than frame.waitForFunction: the frame is replaced on each navigation and both drivers must work.
  let last: string | undefined;
  // The shell's own status too, so a frame that never shows the app says what the shell was doing.
  let status: ShellStatus | string = '(no status)';
  let shown = '(no frame)';
  return until(
    async () => {
      await page.refresh?.().catch(() => undefined);
      status = await shellStatus(page as unknown as AnyPage).catch((e: Error) => `(no status: ${e.message.split('\n')[0]})`);
      const frame = page.mainFrame().childFrames()[0];
      if (!frame) return undefined;
      last = await inPage(frame, () => (window as unknown as { pageName?: string }).pageName, undefined).catch(() => undefined);
      if (last === undefined) {
        shown = await inPage(frame, () => `${location.href} ${document.readyState}: ${(document.body?.innerText ?? '').slice(0, 300)}`, undefined).catch(
          (e: Error) => `(unreadable: ${e.message.split('\n')[0]})`,
        );
      }
      return last !== undefined && (pageName === undefined || last === pageName) ? frame : undefined;
    },
    {
      timeoutMs: WAIT_MS,
      intervalMs: PAGE_POLL_MS,
      what: `the app frame to show ${pageName ?? 'a page'}`,
      observe: () => `page ${last ?? '(none)'}, shell at ${page.url()}, frame ${shown}, shell status ${JSON.stringify(status)}`,
    },
  );
}

/** Opens `url` (a top-level navigation: the shell) and waits for the app in its frame. */
export async function openShell<F extends AnyFrame>(
  page: PageWithFrames<F> & { goto(url: string): Promise<unknown> },
  url: string,
  pageName?: string,
): Promise<F> {
  await page.goto(url);
  return waitForApp(page, pageName);
}

export function shellStatus(page: AnyPage): Promise<ShellStatus> {
  return inPage(page, () => (window as unknown as { __wingman: { status(): ShellStatus } }).__wingman.status(), undefined);
}

/**
 * Waits for the shell's transport (P2P up, or relay with a reason matching
 * `reason`). For P2P, also until the Service Worker has heard of the channel:
 * the shell tells it by a message of its own as its status changes (once the
 * SW controls it, which on a first visit can come after the channel), and a
 * request from the app's frame can reach the SW first (it then goes over the
 * relay, as it should). The SW's answer on the diagnostics channel says which
 * shells it knows to have a channel. And, unless `whileProbing`, until the
 * channel's loss probe has given its verdict (at most LOSS_PROBE_HOLD_MS):
 * meanwhile the SW sends small requests that would share the channel around
 * it (route `loss-probe`, docs/PROTOCOL.md §Loss probe).
 */
export async function waitForTransport(
  page: AnyPage,
  transport: 'p2p' | 'relay',
  reason?: RegExp,
  options: { whileProbing?: boolean } = {},
): Promise<ShellStatus> {
  let last: ShellStatus | undefined;
  const status = await until(
    async () => {
      last = await shellStatus(page).catch(() => last);
      const settled = transport !== 'p2p' || options.whileProbing === true || !last?.probing;
      return last && last.transport === transport && settled && (!reason || reason.test(last.reason ?? '')) ? last : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: PAGE_POLL_MS, what: `the shell to reach ${transport}${reason ? ` (${reason})` : ''}`, observe: () => last },
  );
  if (transport === 'p2p') return { ...status, swRoundTrip: await inPage(page, swKnowsChannel, { ms: SW_ANSWER_WAIT_MS, name: DIAGNOSTICS_CHANNEL }) };
  return status;
}

/** How long the SW's word that it knows the shell's channel is waited for. */
const SW_ANSWER_WAIT_MS = 5_000;

/**
 * In the page: asks the Service Worker on the diagnostics channel, every
 * 50 ms for up to `ms`, which shells it knows to have an open channel, until
 * this one is among them.
 */
function swKnowsChannel({ ms, name }: { ms: number; name: string }): Promise<SwRoundTrip> {
  const shellId = (window as unknown as { __wingman: { shellId: string } }).__wingman.shellId;
  const channel = new BroadcastChannel(name);
  const deadline = Date.now() + ms;
  let known: string[] | undefined;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: SwRoundTrip) => {
      if (done) return;
      done = true;
      channel.close();
      resolve(r);
    };
    const asked = new Set<string>();
    channel.onmessage = (ev: MessageEvent) => {
      const m = ev.data as { type?: string; id?: string; channels?: string[] };
      if (m?.type !== 'wingman:diag-routes' || !asked.has(m.id ?? '') || !Array.isArray(m.channels)) return;
      known = m.channels;
      if (known.includes(shellId)) finish('answered');
    };
    const ask = () => {
      if (done) return;
      if (Date.now() >= deadline) return finish(known ? `unknown (the SW knows ${JSON.stringify(known)})` : 'no answer');
      const id = Math.random().toString(16).slice(2);
      asked.add(id);
      channel.postMessage({ type: 'wingman:diag-request', id });
      setTimeout(ask, 50);
    };
    ask();
  });
}

/**
 * The Service Worker's route counts (sw/route-counts.ts: `relay to-browser`, `p2p default`…), asked on the
 * diagnostics channel from `page`; `no answer` when none came within SW_ANSWER_WAIT_MS. A restarted SW counts from zero.
 */
export function swRouteCounts(page: AnyPage): Promise<Record<string, number> | 'no answer'> {
  return inPage(
    page,
    ({ ms, name }) =>
      new Promise<Record<string, number> | 'no answer'>((resolve) => {
        const channel = new BroadcastChannel(name);
        const id = Math.random().toString(16).slice(2);
        const timer = setTimeout(() => (channel.close(), resolve('no answer')), ms);
        channel.onmessage = (ev: MessageEvent) => {
          const m = ev.data as { type?: string; id?: string; routes?: Record<string, number> };
          if (m?.type !== 'wingman:diag-routes' || m.id !== id || typeof m.routes !== 'object') return;
          clearTimeout(timer);
          channel.close();
          resolve(m.routes);
        };
        channel.postMessage({ type: 'wingman:diag-request', id });
      }),
    { ms: SW_ANSWER_WAIT_MS, name: DIAGNOSTICS_CHANNEL },
  );
}

/**
 * Whether the Service Worker counts this shell's loss probe as pending (sw/lossy-path.ts, routing rule 6),
 * asked on the diagnostics channel from `page`; `no answer` when none came within SW_ANSWER_WAIT_MS.
 */
export function swCountsProbing(page: AnyPage): Promise<boolean | 'no answer'> {
  return inPage(
    page,
    ({ ms, name }) =>
      new Promise<boolean | 'no answer'>((resolve) => {
        const shellId = (window as unknown as { __wingman: { shellId: string } }).__wingman.shellId;
        const channel = new BroadcastChannel(name);
        const id = Math.random().toString(16).slice(2);
        const timer = setTimeout(() => (channel.close(), resolve('no answer')), ms);
        channel.onmessage = (ev: MessageEvent) => {
          const m = ev.data as { type?: string; id?: string; probing?: unknown };
          if (m?.type !== 'wingman:diag-routes' || m.id !== id || !Array.isArray(m.probing)) return;
          clearTimeout(timer);
          channel.close();
          resolve(m.probing.includes(shellId));
        };
        channel.postMessage({ type: 'wingman:diag-request', id });
      }),
    { ms: SW_ANSWER_WAIT_MS, name: DIAGNOSTICS_CHANNEL },
  );
}

/** What changed between two swRouteCounts answers: each count that moved, by how much. */
export function routeCountsMoved(before: Record<string, number> | 'no answer', after: Record<string, number> | 'no answer'): Record<string, number> | string {
  if (before === 'no answer' || after === 'no answer')
    return `the SW answered ${before === 'no answer' ? 'nothing' : 'counts'} before and ${after === 'no answer' ? 'nothing' : 'counts'} after`;
  const moved: Record<string, number> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const by = (after[key] ?? 0) - (before[key] ?? 0);
    if (by !== 0) moved[key] = by;
  }
  return moved;
}

/** The text of the shell's badge as the reviewer sees it ("P2P · verified · 3 ms", "Relay · agent offline"); null without a badge. */
export function badgeText(page: AnyPage): Promise<string | null> {
  return inPage(page, () => document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? null, undefined);
}

/**
 * Records every distinct value `read()` gives from now until `done(value)`
 * holds (polling every 50 ms), so a short spell — a second on the relay
 * between two channels — is seen even while the test awaits something else
 * meanwhile.
 */
function watchPage<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = WAIT_MS): { seen: T[]; finished: Promise<void> } {
  const seen: T[] = [];
  const finished = until(
    async () => {
      const v = await read();
      if (seen.length === 0 || JSON.stringify(v) !== JSON.stringify(seen[seen.length - 1])) seen.push(v);
      return done(v);
    },
    { timeoutMs, intervalMs: PAGE_POLL_MS, what, observe: () => ({ seen }) },
  ).then(() => undefined);
  return { seen, finished };
}

/** Every distinct shell status from now until `done(status)` holds (watchPage). */
export function watchStatuses(page: Page, done: (s: ShellStatus) => boolean): { seen: ShellStatus[]; finished: Promise<void> } {
  return watchPage(() => shellStatus(page), done, 'the shell status to reach the awaited state');
}

/** Every distinct badge text from now until `done(text)` holds (watchPage), within `timeoutMs`. */
export function watchBadge(page: AnyPage, done: (text: string) => boolean, timeoutMs = WAIT_MS): { seen: string[]; finished: Promise<void> } {
  return watchPage(async () => (await badgeText(page)) ?? '(no badge)', done, 'the badge to read the awaited text', timeoutMs);
}

export interface FetchResult {
  status: number;
  transport: string | null;
  text: string;
  headers: Record<string, string>;
  url: string;
  redirected: boolean;
  /** The fetching document's Service Worker, as it saw it when the answer came: its state, or `none` (not controlled). */
  controller: string;
}

/**
 * A fetch's transport with why the Service Worker sent it there (its route
 * header) and what waitForTransport learnt of the SW: what a test expecting
 * P2P shows when it gets the relay (`expect(routeOf(r, s)).toMatch(/^p2p /)`).
 */
export function routeOf(r: FetchResult, status?: ShellStatus): string {
  return `${r.transport} (${r.headers['x-wingman-route'] ?? 'no route header'}; controller: ${r.controller}; SW: ${status?.swRoundTrip ?? 'not asked'})`;
}

/** fetch() from inside the app's frame. */
export function fetchInApp(
  frame: AnyFrame,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<FetchResult> {
  return inPage(
    frame,
    async ({ path, init }) => {
      const r = await fetch(path, init);
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => (headers[k] = v));
      const controller = navigator.serviceWorker?.controller?.state ?? 'none';
      return {
        status: r.status,
        transport: r.headers.get('x-wingman-transport'),
        text: await r.text(),
        headers,
        url: r.url,
        redirected: r.redirected,
        controller,
      };
    },
    { path, init },
  );
}
