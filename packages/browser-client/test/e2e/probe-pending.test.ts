/**
 * While a channel's loss probe has given no verdict, the Service Worker
 * sends the page's bursts around the channel (route-decision.ts rule 6,
 * `relay; reason=loss-probe`), so a first visit's module wave does not meet
 * the losses the probe is about to report; once the shell stops announcing
 * the probe (its verdict, or LOSS_PROBE_HOLD_MS), bursts take the channel
 * again. The agent here answers no probe (its P2P host makes no probe
 * channel: support/no-loss-echo.cjs), as an agent without the channel would,
 * so the probe stays pending for the whole hold. A tab whose last probe found
 * the path clean does not hold its next page load's bursts (page/path-state.ts).
 * What holds them is the SW's count of pending probes, which its diagnostics
 * reply names; the bursts' routes show it too, except where the SW's stall
 * verdict (rule 5, from lone requests' times, which a loaded machine can make
 * stall) comes first and sends them around the channel for that.
 */
import type { Frame, Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { inPage, openShell, shellStatus, swCountsProbing, waitForTransport, WAIT_MS } from './support/shell';
import { noLossEchoAgentEnv, startStack, type Stack } from './support/stack';
import { until } from '../../../../test/helpers/wait';
import { LOSS_PROBE_HOLD_MS, LOSS_VERDICT_STORAGE_KEY } from '../../src/shared/constants';

jest.setTimeout(120_000);

/** Fetches in one burst (as a page's wave). */
const BURST = 6;
/** Tabs tried until one burst ran while the probe was pending (a loaded machine can use up the hold first). */
const MAX_TABS = 3;
/** Routes around the channel: for the probe (rule 6), or for the SW's stall verdict (rule 5), which comes before it. */
const HELD = 'relay; reason=loss-probe';
const STALLS = 'relay; reason=p2p-stalls';

/** The route header of each of BURST fetches started at once from the app's frame. */
function burstRoutes(frame: Frame): Promise<string[]> {
  return inPage(
    frame,
    (n) =>
      Promise.all(Array.from({ length: n }, (_, i) => fetch(`/api/hello?burst=${i}-${Math.random()}`).then((r) => r.headers.get('x-wingman-route') ?? 'none'))),
    BURST,
  );
}

describe('a channel whose loss probe has given no verdict', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack({ agentEnv: noLossEchoAgentEnv() });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /**
   * One burst from a page load whose probe is pending, trying up to MAX_TABS tabs (a loaded machine can use up the
   * hold first); `prepare` runs in each tab before the measured page load. Returns the page, the burst's routes and
   * whether the SW counted the shell's probe as pending then.
   */
  async function burstWhileProbing(prepare: (page: Page) => Promise<void>): Promise<{ page: Page; during: string[]; swProbing: boolean | 'no answer' }> {
    let page: Page = browser.page;
    let during: string[] | undefined;
    let swProbing: boolean | 'no answer' = 'no answer';
    const tries: string[] = [];
    for (let tab = 0; tab < MAX_TABS && !during; tab++) {
      // Another try in a new tab: its channel runs its own probe.
      if (tab > 0) page = await browser.context.newPage();
      await prepare(page);
      const frame = await openShell(page, `${stack.origin}/one`, 'one');
      const before = await waitForTransport(page, 'p2p', undefined, { whileProbing: true });
      // The SW asked during the burst: the shell still probing after both, it was probing when the SW answered.
      const [routes, sw] = await Promise.all([burstRoutes(frame), swCountsProbing(page)]);
      const after = await shellStatus(page);
      tries.push(`probing ${String(before.probing)} → ${String(after.probing)}, the SW's count ${String(sw)}: ${routes.join(', ')}`);
      if (before.probing && after.probing) [during, swProbing] = [routes, sw];
    }
    if (!during) throw new Error(`no burst while the probe was pending, in ${MAX_TABS} tabs: ${tries.join(' | ')}`);
    return { page, during, swProbing };
  }

  it(`has its bursts sent around it for at most ${LOSS_PROBE_HOLD_MS} ms, then over it`, async () => {
    const { page, during, swProbing } = await burstWhileProbing(async () => undefined);
    expect(swProbing).toBe(true);
    // The first of the burst may find nothing else in flight yet (a lone request keeps P2P).
    expect(during.filter((r) => r === HELD || r === STALLS).length).toBeGreaterThanOrEqual(BURST - 1);

    // No verdict comes (no answer at all): the hold ends, and the channel carries bursts again.
    let last = await shellStatus(page);
    let sw: boolean | 'no answer' = swProbing;
    await until(
      async () => {
        last = await shellStatus(page);
        sw = await swCountsProbing(page);
        return (last.transport === 'p2p' && !last.probing && sw === false) || undefined;
      },
      { timeoutMs: WAIT_MS, what: 'the end of the hold, in the shell and in the SW', observe: () => ({ last, sw }) },
    );
    const frame = page.mainFrame().childFrames()[0]!;
    const afterHold = await burstRoutes(frame);
    // Each route, so a failure names the ones that went elsewhere and why: none held for the probe any more.
    expect(afterHold).toEqual(afterHold.map((r) => (r === STALLS ? STALLS : expect.stringMatching(/^p2p;/))));
    // No answer is no verdict: the path is neither lossy nor called clean early.
    expect(last).not.toHaveProperty('lossy');
    const marks = await inPage(page, () => (window as unknown as { __wingman: { timeline(): Record<string, number> } }).__wingman.timeline(), undefined);
    expect(marks).toHaveProperty('loss-probe');
    expect(marks).not.toHaveProperty('loss-clean');
  });

  it("sends a page load's bursts over its channel while the probe is pending when the tab's last probe found the path clean", async () => {
    const { during, swProbing } = await burstWhileProbing(async (page) => {
      await openShell(page, `${stack.origin}/one`, 'one');
      // What this tab's earlier page load leaves when its probe ends clean (this agent answers no probe).
      await inPage(page, (key) => sessionStorage.setItem(key, `clean ${Date.now()}`), LOSS_VERDICT_STORAGE_KEY);
    });
    expect(swProbing).toBe(false);
    // Each route: over the channel, or around it for the stall verdict, never held for the probe.
    expect(during).toEqual(during.map((r) => (r === STALLS ? STALLS : expect.stringMatching(/^p2p;/))));
  });
});
