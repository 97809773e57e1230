/**
 * A session with a stable name (`wingman http --name`), in real Chromium:
 * the shell, the Service Worker and the P2P channel work on the named origin
 * (`http://<name>.localhost:<port>`) as on a random id's, and the app's
 * requests go peer-to-peer.
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, routeOf, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

let stack: Stack;
let browser: LaunchedChromium;

beforeAll(async () => {
  stack = await startStack({ agentArgs: ['--name', 'review-app'] });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('a session with a stable name', () => {
  it('serves the app at <name>.localhost through the shell and goes peer-to-peer there', async () => {
    expect(stack.sessionId).toBe('review-app');
    expect(new URL(stack.origin).hostname).toBe('review-app.localhost');
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.transport).toBe('p2p');
    expect(routeOf(await fetchInApp(frame, '/api/hello'), status)).toMatch(/^p2p /);
  });
});
