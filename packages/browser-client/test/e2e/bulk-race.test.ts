/**
 * A first large download, before any bulk figure exists: with P2P made slow
 * for bulk (the agent's P2P host throttled to 1 MiB/s by a preload of the
 * test's own, support/throttle-p2p-send.cjs), the Service Worker races the body over
 * both paths and the relay carries it, intact; the badge says bulk goes via
 * the relay, the next large download goes there at once, and small requests
 * stay on P2P. A large upload then follows the bulk downloads to the relay.
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { patternSha256 } from './support/app';
import { download, upload } from './support/in-app';
import { fetchInApp, openShell, routeOf, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, throttledP2PAgentEnv, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
/** Past RACE_MIN_BYTES and RACE_DECIDE_BYTES (bulk-race.ts): raced, and decided before the body ends. */
const BODY_BYTES = 16 * MiB;
/** Past BULK_MIN_BYTES: an upload the shim declares bulk. */
const UPLOAD_BYTES = 4 * MiB;

describe('the first large download races both paths', () => {
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

  it('carries a first large download over the relay when P2P is slower, intact, and sends the next one there at once', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    const status = await waitForTransport(page, 'p2p');
    expect(routeOf(await fetchInApp(frame, '/api/hello'), status)).toMatch(/^p2p /);

    const first = await download(frame, BODY_BYTES);
    expect(first).toEqual({ sha: patternSha256(BODY_BYTES), bytes: BODY_BYTES, transport: 'relay' });
    await page.waitForFunction(
      () => /^P2P · .* · bulk via relay$/.test(document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? ''),
      undefined,
      { timeout: WAIT_MS },
    );
    const second = await download(frame, BODY_BYTES);
    expect(second).toEqual({ sha: patternSha256(BODY_BYTES), bytes: BODY_BYTES, transport: 'relay' });

    const small: string[] = [];
    for (let i = 0; i < 3; i++) small.push((await fetchInApp(frame, `/api/hello?i=${i}`)).transport ?? 'none');
    expect(small).toEqual(['p2p', 'p2p', 'p2p']);
    await waitForTransport(page, 'p2p');
  });

  it('sends a large upload the way bulk downloads go (here the relay), intact, while small requests stay on P2P', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    expect((await download(frame, BODY_BYTES)).transport).toBe('relay');

    const up = await upload(frame, UPLOAD_BYTES);
    expect(up.transport).toBe('relay');
    expect(up.remote).toEqual({ sha: up.localSha, length: UPLOAD_BYTES });
    expect((await fetchInApp(frame, '/api/hello?after=upload')).transport).toBe('p2p');
  });
});
