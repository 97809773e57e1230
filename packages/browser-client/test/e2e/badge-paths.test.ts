/**
 * Small requests keep the default path even where the relay answers them
 * faster, and the badge names no class: an agent whose P2P host holds every
 * message it sends for DELAY_MS (support/delay-p2p-send.cjs), so the relay
 * answers small requests faster than P2P. The relay's times come from
 * requests it carried while the page was between channels (its signaling
 * held, as a slow path to the server would). Real Chromium, real tunnel
 * server and agent processes. test/unit/badge.test.ts lists every state and
 * the test that produces it.
 */
import type { Frame, Page, WebSocketRoute } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { badgeText, fetchInApp, inPage, openShell, waitForTransport } from './support/shell';
import { delayedP2PAgentEnv, startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

/** What the P2P host adds to every message it sends, ms: far beyond a loopback relay's time to a small response. */
const DELAY_MS = 80;
/** Small requests each path carries, one at a time. */
const SMALL_SAMPLES = 6;

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
 * Gives the relay its times for small requests: the channel dropped and the
 * next one held, SMALL_SAMPLES requests over the relay one at a time; then
 * P2P again.
 */
async function relayTimesForSmall(page: Page, frame: Frame, gate: { on: boolean; release(): void }): Promise<void> {
  gate.on = true;
  expect(await inPage(page, () => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel(), undefined)).toBe(true);
  await waitForTransport(page, 'relay', /^channel closed/);
  for (let i = 0; i < SMALL_SAMPLES; i++) expect((await fetchInApp(frame, `/api/hello?relay=${i}`)).transport).toBe('relay');
  gate.release();
  await waitForTransport(page, 'p2p');
}

describe('the badge while P2P is slower than the relay for small requests', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  afterEach(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('keeps small requests on P2P after the relay answered them faster, and names no class', async () => {
    stack = await startStack({ agentEnv: delayedP2PAgentEnv(DELAY_MS) });
    browser = await launchChromium();
    const { page } = browser;
    const gate = await signalingGate(page);
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await relayTimesForSmall(page, frame, gate);

    const small: string[] = [];
    for (let i = 0; i < 2 * SMALL_SAMPLES; i++) small.push((await fetchInApp(frame, `/api/hello?p2p=${i}`)).transport ?? 'none');
    expect(small).toEqual(Array.from({ length: 2 * SMALL_SAMPLES }, () => 'p2p'));
    expect(await badgeText(page)).toMatch(/^P2P · unverified · [\d.]+ ms$/);
  });
});
