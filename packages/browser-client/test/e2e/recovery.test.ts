/**
 * P2P is an upgrade, never a gate: a channel that dies mid-download is
 * recovered over the relay without the app noticing, requests use the relay
 * until P2P is back, and tabs keep their own channels; a closed tab's peer
 * is reported to the developer as closed, not as a P2P failure.
 */
import { patternSha256 } from './support/app';
import { launchChromium, unregisterServiceWorkers, type LaunchedChromium } from './helpers/browser';
import { download, settleBulkFigures } from './support/in-app';
import { fetchInApp, openShell, routeOf, waitForTransport, watchStatuses, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

describe('recovery and tabs', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const p of browser.context.pages().slice(1)) await p.close();
    await unregisterServiceWorkers(browser.page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('finishes a 50 MiB download with the right SHA-256 when the data channel dies in the middle', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    await settleBulkFigures(frame);
    const before = stack.app.requests.filter((r) => r.path.startsWith('/bytes')).length;
    const r = await download(frame, 50 * MiB, 10 * MiB);
    expect(r).toEqual({ sha: patternSha256(50 * MiB), bytes: 50 * MiB, transport: 'p2p' });
    // The rest came from a second request (over the relay), skipping what had arrived.
    expect(stack.app.requests.filter((x) => x.path.startsWith('/bytes')).length).toBe(before + 2);
  });

  it('resumes a ranged download over the relay with a Range request when the channel dies', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    await settleBulkFigures(frame);
    const n = 8 * MiB;
    const r = await frame.evaluate(async (n) => {
      // The app stalls after half the body: it cannot all have come over the channel before the channel dies.
      const res = await fetch(`/ranged?n=${n}&stall=${n / 2}`);
      const reader = res.body!.getReader();
      const out = new Uint8Array(n);
      let got = 0;
      let dropped = false;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        out.set(value, got);
        got += value.length;
        if (!dropped && got >= 2 * 1048576) dropped = (window.top as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel();
      }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', out.subarray(0, got)));
      return { got, sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
    }, n);
    expect(r).toEqual({ got: n, sha: patternSha256(n) });
    // The resumption asked only for the rest.
    const resumed = stack.app.requests.filter((x) => x.path.startsWith('/ranged') && x.range !== undefined);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.range).toMatch(/^bytes=\d+-$/);
  });

  it('uses the relay at once when the channel closes, and P2P again once it is back', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const first = await waitForTransport(browser.page, 'p2p');
    // The shell learns of the close from the channel's 'close' event, which can come after the
    // relayed fetch below answered, and may be back on P2P soon after: watch every status.
    const watch = watchStatuses(browser.page, (s) => s.transport === 'p2p' && s.viewerId !== first.viewerId);
    expect(await browser.page.evaluate(() => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel())).toBe(true);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('relay');
    await watch.finished;
    expect(watch.seen.some((s) => s.transport === 'relay' && /channel closed/.test(s.reason ?? ''))).toBe(true);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');
  });

  it('runs two tabs with a channel each; closing one leaves the other on P2P', async () => {
    const tab1 = browser.page;
    const tab2 = await browser.context.newPage();
    const frame1 = await openShell(tab1, `${stack.origin}/one`, 'one');
    const frame2 = await openShell(tab2, `${stack.origin}/two`, 'two');
    const s1 = await waitForTransport(tab1, 'p2p');
    const s2 = await waitForTransport(tab2, 'p2p');
    expect(s1.viewerId).not.toBe(s2.viewerId);
    expect((await fetchInApp(frame1, '/api/hello?tab=1')).transport).toBe('p2p');
    expect((await fetchInApp(frame2, '/api/hello?tab=2')).transport).toBe('p2p');
    await tab2.close();
    const after = await waitForTransport(tab1, 'p2p');
    expect(after.viewerId).toBe(s1.viewerId);
    expect(routeOf(await fetchInApp(frame1, '/api/hello?tab=1-again'), after)).toMatch(/^p2p /);
    // The developer reads that the closed tab's viewer went, not that its P2P failed.
    const gone = await stack.agent.waitFor((e) => e.event === 'peer' && e.viewerId === s2.viewerId && e.state !== 'connected', {
      timeoutMs: WAIT_MS,
      what: "the agent's word on the closed tab's peer",
    });
    expect(gone).toMatchObject({ state: 'closed' });
  });
});
