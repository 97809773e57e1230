/**
 * A loss probe whose answers come back out of order: the gap rule counts two
 * probes lost before the end (the shell's early lossy verdict), then both
 * come back. The whole measurement is the verdict: no probe lost, the path
 * is not lossy, and the shell says so. The agent here echoes probes 1 and 2
 * after probe 8 (support/reordered-loss-echo.cjs).
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { inPage, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { reorderedLossEchoAgentEnv, startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

type Shell = { __wingman: { status(): { loss?: { sent: number; lost: number }; lossy?: boolean }; timeline(): Record<string, number> } };

describe('a loss probe answered out of order', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack({ agentEnv: reorderedLossEchoAgentEnv() });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('takes back its early lossy verdict once every probe came back', async () => {
    const page = browser.page;
    await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    await page.waitForFunction(() => (window as unknown as Shell).__wingman.status().loss !== undefined, undefined, { timeout: WAIT_MS });
    const probed = await inPage(
      page,
      () => {
        const w = (window as unknown as Shell).__wingman;
        const st = w.status();
        return { loss: st.loss, lossy: st.lossy ?? false, early: w.timeline().lossy !== undefined };
      },
      undefined,
    );
    // The early verdict was given (the reordering took effect), and the end took it back.
    expect(probed).toEqual({ loss: { sent: 128, lost: 0 }, lossy: false, early: true });
  });
});
