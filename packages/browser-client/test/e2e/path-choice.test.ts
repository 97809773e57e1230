/**
 * Per-session path choice in the Service Worker: with P2P made slow for bulk
 * (the agent's P2P host throttled to 1 MiB/s by a preload of the test's own,
 * support/throttle-p2p-send.cjs; small responses still leave at once),
 * a repeated large download moves to the relay once both paths were
 * measured, while small requests stay on P2P; the badge shows it, and
 * stops saying it once a restarted Service Worker sends bulk over P2P again.
 */
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, throttledP2PAgentEnv, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
/** Bulk downloads before the choice must have settled: one default, one probe of the relay, then the choice (see path-choice.ts), plus slack. */
const MAX_BULK = 6;

/** Waits until the shell's badge reads "P2P · … · bulk via relay". */
function badgeSaysBulkViaRelay(page: Page): Promise<unknown> {
  return page.waitForFunction(
    () => /^P2P · .* · bulk via relay$/.test(document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? ''),
    undefined,
    { timeout: WAIT_MS },
  );
}

describe('path choice per request class', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack({ agentEnv: throttledP2PAgentEnv(MiB) });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('moves a repeated large download to the relay when P2P is slower for bulk, says so in the badge (a reloaded shell too), and keeps small requests on P2P', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');
    const bulk: string[] = [];
    while (bulk.length < MAX_BULK && bulk.slice(-2).join() !== 'relay,relay') {
      const r = await fetchInApp(frame, `/bytes?n=${2 * MiB}`);
      expect(r.status).toBe(200);
      bulk.push(r.transport ?? 'none');
    }
    // It started on P2P (the default) and ended on the relay.
    expect(bulk).toContain('p2p');
    expect(bulk.slice(-2)).toEqual(['relay', 'relay']);
    // The badge says so.
    await badgeSaysBulkViaRelay(page);
    const small: string[] = [];
    for (let i = 0; i < 5; i++) small.push((await fetchInApp(frame, `/api/hello?i=${i}`)).transport ?? 'none');
    expect(small).toEqual(['p2p', 'p2p', 'p2p', 'p2p', 'p2p']);
    await waitForTransport(page, 'p2p');
    // A reload's new shell is told the choice the Service Worker keeps for the session.
    const two = await openShell(page, `${stack.origin}/two`, 'two');
    await waitForTransport(page, 'p2p');
    await badgeSaysBulkViaRelay(page);

    // A restarted Service Worker starts its figures afresh and sends every class over P2P again: the badge says so.
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    await cdp.detach();
    expect((await fetchInApp(two, '/api/hello?restarted')).transport).toBe('p2p');
    await page.waitForFunction(
      () => /^P2P · [^·]+( · [\d.]+ ms)?$/.test(document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? ''),
      undefined,
      { timeout: WAIT_MS },
    );
  });
});
