/**
 * The P2P path: once the shell's data channel is open, the app's requests,
 * bodies both ways, SSE, aborts and WebSockets travel over it; navigation
 * inside the app keeps the channel.
 */
import { patternSha256 } from './support/app';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { abortedFetch, download, firstSseEvent, settleBulkFigures, upload, websocketEcho, websocketSendAndClose } from './support/in-app';
import { fetchInApp, inPage, openShell, routeOf, shellStatus, WAIT_MS, waitForApp, waitForTransport } from './support/shell';
import { startStackWith, type Stack } from './support/stack';
import { delay } from '../../../../test/helpers/wait';
import { CLIENT_PATH } from '@wingman/protocol';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
/** Delay added to each signaling message of the shell in the WebSocket-after-navigation test, ms (well below CHANNEL_COMING_WAIT_MS). */
const SIGNAL_HOLD_MS = 200;
/** How long the shell's client.js is held back in the case where the app's WebSocket comes first. */
const CLIENT_HOLD_MS = 600;

describe('P2P through the shell', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    [stack, browser] = await startStackWith(launchChromium);
  });

  afterEach(async () => {
    stack.app.releaseSse();
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Holds back each signaling message of the shell SIGNAL_HOLD_MS, as a distant server would (undone by unrouteAll). */
  function holdSignaling(): Promise<void> {
    return browser.page.routeWebSocket(/\/__wingman\/signal/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => void delay(SIGNAL_HOLD_MS).then(() => server.send(m)));
      server.onMessage((m) => ws.send(m));
    });
  }

  async function p2pApp(path = '/one', name = 'one') {
    const frame = await openShell(browser.page, `${stack.origin}${path}`, name);
    await waitForTransport(browser.page, 'p2p');
    return frame;
  }

  it('moves app fetches to P2P once the channel is open', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.connectMs).toBeGreaterThan(0);
    const r = await fetchInApp(frame, '/api/hello?via=p2p');
    // The route header and the SW's word say why, should it come back over the relay.
    expect(routeOf(r, status)).toMatch(/^p2p /);
    const body = JSON.parse(r.text);
    expect(body).toMatchObject({ hello: 'world', query: { via: 'p2p' }, forwardedFor: null });
    // The app sees the session's public host, as over the relay.
    expect(body.forwardedHost).toBe(new URL(stack.origin).host);
  });

  it('uploads 20 MiB and downloads 50 MiB over P2P with equal SHA-256', async () => {
    const frame = await p2pApp();
    // Before any bulk download: an upload takes the path bulk downloads take, and on loopback the
    // settling race below may find the relay faster.
    const up = await upload(frame, 20 * MiB);
    // One string, so a mismatch prints the shell's own account (transport, reason, viewer id)
    // beside the upload's transport.
    expect(`${up.transport} ${JSON.stringify(await shellStatus(browser.page))}`).toMatch(/^p2p /);
    expect(up.remote).toEqual({ sha: up.localSha, length: 20 * MiB });
    await settleBulkFigures(frame);
    const down = await download(frame, 50 * MiB);
    expect(down).toEqual({ sha: patternSha256(50 * MiB), bytes: 50 * MiB, transport: 'p2p' });
  });

  it('delivers server-sent events incrementally over P2P', async () => {
    const frame = await p2pApp();
    expect(await firstSseEvent(frame)).toBe('first');
  });

  it('cancels the local request when the app aborts a fetch, before and during the body', async () => {
    const frame = await p2pApp();
    stack.app.aborted.length = 0;
    expect(await abortedFetch(frame, '/hang', 300)).toBe('AbortError');
    expect(await abortedFetch(frame, `/bytes?n=${200 * MiB}`, 300)).toBe('AbortError');
    await Promise.all([stack.app.waitForAborted('/hang', WAIT_MS), stack.app.waitForAborted('/bytes', WAIT_MS)]);
    expect(stack.app.aborted).toEqual(expect.arrayContaining(['/hang', '/bytes']));
  });

  it('follows redirects, answers HEAD and passes statuses over P2P', async () => {
    const frame = await p2pApp();
    const redirected = await fetchInApp(frame, '/redirect');
    expect(redirected).toMatchObject({ status: 200, transport: 'p2p', url: `${stack.origin}/api/hello?from=redirect` });
    const head = await fetchInApp(frame, '/api/hello', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, text: '', transport: 'p2p' });
    expect(head.headers['x-head']).toBe('yes');
    expect(await fetchInApp(frame, '/nope')).toMatchObject({ status: 404, transport: 'p2p' });
  });

  it('passes Range requests through over P2P (206 with the requested bytes)', async () => {
    const frame = await p2pApp();
    const r = await frame.evaluate(async () => {
      const res = await fetch('/ranged', { headers: { range: 'bytes=100-199' } });
      const body = new Uint8Array(await res.arrayBuffer());
      const full = new Uint8Array(await (await fetch('/ranged')).arrayBuffer());
      return {
        status: res.status,
        range: res.headers.get('content-range'),
        transport: res.headers.get('x-wingman-transport'),
        length: body.length,
        same: body.every((b, i) => b === full[100 + i]),
      };
    });
    expect(r).toEqual({ status: 206, range: 'bytes 100-199/1048576', transport: 'p2p', length: 100, same: true });
  });

  it('echoes a WebSocket over P2P through the shim', async () => {
    const frame = await p2pApp();
    const r = await websocketEcho(frame);
    expect(r.hello).toMatchObject({ protocol: 'chat', forwardedFor: null });
    expect(r.echo).toBe('ping');
    expect(r.binary).toEqual([1, 2, 3]);
    expect(r.closeCode).toBe(1000);
  });

  /** Opens /ws-at-load in a new shell (its signaling held back): the app's WebSocket hello, and when the channel was ready. */
  async function wsAtLoad() {
    await holdSignaling();
    const frame = await openShell(browser.page, `${stack.origin}/ws-at-load`, 'ws-at-load');
    const hello = await inPage(
      frame,
      async (timeoutMs) => {
        const deadline = Date.now() + timeoutMs;
        while (!(window as { wsAtLoad?: unknown }).wsAtLoad && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        return (window as { wsAtLoad?: { forwardedFor: string | null } }).wsAtLoad ?? null;
      },
      WAIT_MS,
    );
    // In the failure: when the channel was ready and the shell's marks (ms from the page's start).
    const { p2pReadyMs } = await waitForTransport(browser.page, 'p2p');
    const { timeline, errors } = await inPage(
      browser.page,
      () => {
        const w = (window as unknown as { __wingman: { timeline(): Record<string, number>; errors(): unknown[] } }).__wingman;
        // In the order the marks were made (jest prints an object's keys sorted).
        return {
          timeline: Object.entries(w.timeline())
            .sort((a, b) => a[1] - b[1])
            .map(([k, v]) => `${k} ${v}`),
          errors: w.errors(),
        };
      },
      undefined,
    );
    await browser.page.unrouteAll();
    return { hello, p2pReadyMs, timeline, errors };
  }

  it('opens a WebSocket the app creates while the channel comes back after a full navigation over P2P, not over the relay', async () => {
    await p2pApp();
    // A new document and a new shell: the app's WebSocket opens while the new channel is still
    // connecting. The shell's signaling is held back SIGNAL_HOLD_MS (as a distant server would),
    // so the channel comes well after the app's WebSocket, yet within CHANNEL_COMING_WAIT_MS.
    const seen = await wsAtLoad();
    // The relay adds X-Forwarded-For; the agent's P2P forward does not.
    expect(seen).toEqual({ ...seen, hello: expect.objectContaining({ forwardedFor: null }) });
  });

  it("carries a WebSocket the app opened before the shell's script ran over P2P", async () => {
    await p2pApp();
    // The frame starts before client.js runs; held back here, the app's WebSocket asks a shell
    // that does not listen yet: the inline script holds the request for it.
    await browser.page.route(`**${CLIENT_PATH}`, async (route) => {
      await delay(CLIENT_HOLD_MS);
      await route.continue();
    });
    const seen = await wsAtLoad();
    expect(seen).toEqual({ ...seen, hello: expect.objectContaining({ forwardedFor: null }) });
    expect(Number(seen.timeline.find((m) => m.startsWith('script '))?.split(' ')[1])).toBeGreaterThan(CLIENT_HOLD_MS);
  });

  it("closes a shimmed WebSocket with 1009 and the reason when the app sends a message over the agent's cap over P2P, and the next WebSocket works", async () => {
    const frame = await p2pApp();
    expect(await websocketSendAndClose(frame, MiB + 1)).toEqual({ code: 1009, reason: `message over the ${MiB}-byte limit`, wasClean: true });
    expect((await websocketEcho(frame)).echo).toBe('ping');
    expect(await waitForTransport(browser.page, 'p2p')).toBeTruthy();
  });

  it('keeps the same channel across navigations inside the app, and a navigation redirect lands on the target', async () => {
    const frame = await p2pApp();
    const before = await waitForTransport(browser.page, 'p2p');
    await frame.click('#to-two');
    const two = await waitForApp(browser.page, 'two');
    await two.goto(`${stack.origin}/nav-redirect`);
    const landed = await waitForApp(browser.page, 'two');
    expect(await landed.evaluate(() => location.search)).toBe('?from=redirect');
    await browser.page.waitForURL((u) => u.search === '?from=redirect', { timeout: WAIT_MS });
    const after = await waitForTransport(browser.page, 'p2p');
    expect(after.viewerId).toBe(before.viewerId);
    expect((await fetchInApp(landed, '/api/hello')).transport).toBe('p2p');
  });

  it('shows the transport in the shell badge, hides it by ?wingman-badge=0 (not passed to the app) and by its close button', async () => {
    const page = browser.page;
    await p2pApp();
    const badgeText = () => page.evaluate(() => document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? null);
    await page.waitForFunction(
      () => /^P2P · unverified · [\d.]+ ms$/.test(document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? ''),
      undefined,
      { timeout: WAIT_MS },
    );
    expect(await badgeText()).toMatch(/^P2P · /);

    const frame = await openShell(page, `${stack.origin}/one?wingman-badge=0&keep=1`, 'one');
    expect(await badgeText()).toBeNull();
    expect(await frame.evaluate(() => location.search)).toBe('?keep=1');

    await openShell(page, `${stack.origin}/one`, 'one');
    await page.evaluate(() => (document.querySelector('wingman-status')!.shadowRoot!.querySelector('button') as HTMLButtonElement).click());
    expect(await badgeText()).toBeNull();
    await page.reload();
    await waitForApp(page, 'one');
    expect(await badgeText()).toBeNull();
    await page.evaluate(() => localStorage.removeItem('wingman-badge-hidden'));
  });
});
