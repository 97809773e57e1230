/**
 * Compression on the data channel: a text body of some size crosses the
 * channel gzipped (the agent compresses, the Service Worker decodes), and
 * the page gets the app's own bytes and head; the app never sees the offer.
 */
import type { Page } from 'playwright-core';
import { scriptText } from './support/app';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

/** Bytes the shell's protocol connection has received over the data channel so far. */
function channelBytesReceived(page: Page): Promise<number> {
  return page.evaluate(
    () => (window as unknown as { __wingman: { connection(): { bytesReceived: number } | undefined } }).__wingman.connection()?.bytesReceived ?? -1,
  );
}

describe('compression on the data channel', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterEach(async () => {
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("carries a large script gzipped over P2P, and the page gets the app's bytes and head", async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const expected = scriptText(512);
    const before = await channelBytesReceived(browser.page);
    const r = await fetchInApp(frame, '/script.js?kb=512');
    const received = (await channelBytesReceived(browser.page)) - before;

    expect(r.status).toBe(200);
    expect(r.transport).toBe('p2p');
    expect(r.text === expected).toBe(true);
    // The head as the app sent it: its length, no coding of ours or the channel's.
    expect(r.headers['content-length']).toBe(String(expected.length));
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers['x-wingman-coding']).toBeUndefined();
    // The app was never offered the channel's coding.
    expect(r.headers['x-offered-channel-coding']).toBe('none');
    // What crossed the channel (frames and head included) is well under the body.
    expect(before).toBeGreaterThanOrEqual(0);
    expect(received).toBeLessThan(expected.length / 4);
  });

  it('carries a small script as it is', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const before = await channelBytesReceived(browser.page);
    const r = await fetchInApp(frame, '/script.js?kb=2');
    const received = (await channelBytesReceived(browser.page)) - before;
    expect(r.transport).toBe('p2p');
    expect(r.text === scriptText(2)).toBe(true);
    expect(received).toBeGreaterThanOrEqual(2 * 1024);
  });
});

describe('compression switched off (P2P_COMPRESSION=false)', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack({ serverEnv: { P2P_COMPRESSION: 'false' } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('carries a large script over P2P as it is: the Service Worker makes no offer, so the agent does not compress', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const expected = scriptText(512);
    const before = await channelBytesReceived(browser.page);
    const r = await fetchInApp(frame, '/script.js?kb=512');
    const received = (await channelBytesReceived(browser.page)) - before;
    // Over the channel, so the SW had the shell's announcement of it, which carried the switch.
    expect(r.transport).toBe('p2p');
    expect(r.text === expected).toBe(true);
    expect(before).toBeGreaterThanOrEqual(0);
    expect(received).toBeGreaterThanOrEqual(expected.length);
  });
});
