/**
 * The shell and the app frame share one renderer main thread: while the app
 * keeps it busy, the shell cannot answer the Service Worker. An upload the
 * app starts right before such a spell must still go over P2P (the shell
 * carries it once the thread is free), not silently over the relay, so the
 * tunnel server never carries its bytes.
 */
import { metricSum } from '../../../../test/helpers/http-client';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { upload } from './support/in-app';
import { openShell, shellStatus, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const UPLOAD_BYTES = 8 * MiB;
/** How long the app blocks the main thread after starting the upload: above the shell's accept timeout (1.5 s). */
const BUSY_MS = 2_500;

describe('an upload started just before the page gets busy', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('goes over P2P and the tunnel server relays none of its bytes when the main thread is blocked for 2.5 s right after the fetch', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const serverPort = Number(new URL(stack.origin).port);
    const relayedBefore = await metricSum(serverPort, 'wingman_relay_bytes_total');
    const up = await upload(frame, UPLOAD_BYTES, BUSY_MS);
    const relayed = (await metricSum(serverPort, 'wingman_relay_bytes_total')) - relayedBefore;
    expect(up.remote).toEqual({ sha: up.localSha, length: UPLOAD_BYTES });
    // One string, so a mismatch prints the shell's own account beside the upload's transport.
    expect(`${up.transport} ${JSON.stringify(await shellStatus(browser.page))}`).toMatch(/^p2p /);
    expect(relayed).toBeLessThan(UPLOAD_BYTES);
  });
});
