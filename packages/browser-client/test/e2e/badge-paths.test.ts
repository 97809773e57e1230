/**
 * The badge names the request classes the relay carries while P2P is up,
 * each state brought about for real: an agent whose P2P host holds every
 * message it sends for DELAY_MS (support/delay-p2p-send.cjs), so the relay
 * answers small requests faster than P2P, says `small via relay`; with that
 * host also throttled for bulk (support/throttle-p2p-send.cjs), it says
 * `small + bulk via relay`. The relay's figure for small requests comes from
 * requests it carried while the page was between channels (its signaling
 * held, as a slow path to the server would). Real Chromium, real tunnel
 * server and agent processes. test/unit/badge.test.ts lists every state and
 * the test that produces it.
 */
import type { Frame, Page, WebSocketRoute } from 'playwright-core';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { badgeText, fetchInApp, inPage, openShell, waitForTransport } from './support/shell';
import { delayedP2PAgentEnv, startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
/** What the P2P host adds to every message it sends, ms: past the path chooser's 20 ms and ×1.25 margins over a loopback relay. */
const DELAY_MS = 80;
/** Small requests each path carries, alone, for the figures: the chooser needs 5 on each (path-choice.ts SMALL_MIN_SAMPLES). */
const SMALL_SAMPLES = 6;
/** Bulk downloads before the choice must have settled (as path-choice.test.ts). */
const MAX_BULK = 6;

/** Holds the shell's signaling sockets while `on`, passing them through otherwise; `release` lets the held ones through. */
async function signalingGate(page: Page): Promise<{ on: boolean; release(): void }> {
  const waiting: WebSocketRoute[] = [];
  const gate = {
    on: false,
    release() {
      gate.on = false;
      for (const ws of waiting.splice(0)) ws.connectToServer();
    },
  };
  await page.routeWebSocket(/\/__wingman\/signal/, (ws) => {
    if (gate.on) waiting.push(ws);
    else ws.connectToServer();
  });
  return gate;
}

/**
 * Gives the relay its figure for small requests: the channel dropped and the
 * next one held, SMALL_SAMPLES requests over the relay one at a time; then
 * P2P again.
 */
async function relayFiguresForSmall(page: Page, frame: Frame, gate: { on: boolean; release(): void }): Promise<void> {
  gate.on = true;
  expect(await inPage(page, () => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel(), undefined)).toBe(true);
  await waitForTransport(page, 'relay', /^channel closed/);
  for (let i = 0; i < SMALL_SAMPLES; i++) expect((await fetchInApp(frame, `/api/hello?relay=${i}`)).transport).toBe('relay');
  gate.release();
  await waitForTransport(page, 'p2p');
}

/** Small requests over P2P, one at a time, until the badge names small requests among those the relay carries (or SMALL_SAMPLES × 2 went). */
async function smallUntilBadgeSaysRelay(page: Page, frame: Frame): Promise<string | null> {
  let text = await badgeText(page);
  for (let i = 0; i < 2 * SMALL_SAMPLES && !/small( \+ bulk)? via relay$/.test(text ?? ''); i++) {
    await fetchInApp(frame, `/api/hello?p2p=${i}`);
    text = await badgeText(page);
  }
  return text;
}

describe('the badge while the relay carries a class of requests', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
    await browser?.close();
    await stack?.close();
  });

  it('says "small via relay" once the relay answered small requests faster than a slow P2P path', async () => {
    stack = await startStack({ agentEnv: delayedP2PAgentEnv(DELAY_MS) });
    browser = await launchChromium();
    const { page } = browser;
    const gate = await signalingGate(page);
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await relayFiguresForSmall(page, frame, gate);

    expect(await smallUntilBadgeSaysRelay(page, frame)).toMatch(/^P2P · unverified · [\d.]+ ms · small via relay$/);
    expect((await fetchInApp(frame, '/api/hello?after')).transport).toBe('relay');
  });

  it('says "small + bulk via relay" when P2P is also slower for bulk', async () => {
    stack = await startStack({ agentEnv: delayedP2PAgentEnv(DELAY_MS, MiB) });
    browser = await launchChromium();
    const { page } = browser;
    const gate = await signalingGate(page);
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    const bulk: string[] = [];
    while (bulk.length < MAX_BULK && bulk.slice(-2).join() !== 'relay,relay') bulk.push((await fetchInApp(frame, `/bytes?n=${2 * MiB}`)).transport ?? 'none');
    expect(bulk.slice(-2)).toEqual(['relay', 'relay']);
    await relayFiguresForSmall(page, frame, gate);

    expect(await smallUntilBadgeSaysRelay(page, frame)).toMatch(/^P2P · unverified · [\d.]+ ms · small \+ bulk via relay$/);
  });
});
