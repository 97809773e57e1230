/**
 * The inline script's P2P attempt in Firefox: with client.js held back, the
 * attempt applies the agent's answer and its channel opens, and client.js
 * carries that attempt on with what the channel held (Firefox's data
 * channels deliver Blobs unless told otherwise, and its events come in its
 * own order: the same path as Chromium's, checked here).
 */
import type { HTTPRequest } from 'puppeteer-core';
import { until } from '../../../../test/helpers/wait';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { fetchInApp, inPage, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { watchInlineMark } from './support/inline-mark';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

describe('the P2P attempt started by the shell inline script, in Firefox', () => {
  let stack: Stack;
  let browser: LaunchedFirefox;
  beforeAll(async () => void (stack = await startStack()));
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('opens the channel while client.js is held, and client.js carries that attempt on over a verified channel', async () => {
    browser = await launchFirefox();
    const { page } = browser;
    let open = false;
    let held: boolean | undefined;
    await page.setRequestInterception(true);
    page.on('request', (request: HTTPRequest) => {
      if (!request.url().endsWith('/__wingman/client.js')) return void request.continue();
      void until(() => open || undefined, { timeoutMs: WAIT_MS, intervalMs: 20, what: 'the channel open at the inline script' })
        .then(
          () => (held = true),
          () => (held = false),
        )
        .then(() => request.continue());
    });
    const opened = openShell(page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    watchInlineMark(page, 'channel-open', () => (open = true));
    const frame = await opened;
    const status = await waitForTransport(page, 'p2p');
    expect(held).toBe(true);
    expect(status.verified).toBe(true);
    const r = await fetchInApp(frame, '/api/hello?via=early-firefox');
    expect(r.transport).toBe('p2p');
    const timeline = await inPage(page, () => (window as unknown as { __wingman: { timeline(): Record<string, number> } }).__wingman.timeline(), undefined);
    expect(timeline['answer-in']).toBeLessThan(timeline.script!);
    expect(timeline['channel-open']).toBeLessThan(timeline.script!);
    expect(timeline.ready).toBeGreaterThan(timeline.script!);
  });
});
