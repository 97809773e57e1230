/**
 * The agent's P2P host process serving a reviewer's page (one per viewer, the
 * only holders of @roamhq/wrtc) dies of a native crash while the page is on
 * P2P. The page must move to the relay at once — a dead process closes
 * nothing, so the agent says `bye` for it — keep working there, and be back
 * on P2P when its next offer gets a new process; its badge says each of these as it happens, and afterwards the
 * path the page's requests take. Real Chromium, real tunnel server and agent
 * processes.
 */
import { p2pHostOf } from '../../../../test/helpers/processes';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { badgeText, fetchInApp, openShell, waitForTransport, watchBadge, watchStatuses } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

describe('a crash of the agent P2P host process, seen from the browser', () => {
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

  it('moves the page to the relay with the reason, keeps the app working, and returns to P2P', async () => {
    const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
    const first = await waitForTransport(browser.page, 'p2p');
    expect((await fetchInApp(frame, '/api/hello?before')).transport).toBe('p2p');
    const host = await p2pHostOf(stack.agent, first.viewerId);

    // Every status from now until P2P is back with a new channel (from a new host process).
    const watch = watchStatuses(browser.page, (s) => s.transport === 'p2p' && s.viewerId !== first.viewerId);
    // What the reviewer reads meanwhile, until it says P2P again.
    let relayRead = false;
    const badge = watchBadge(browser.page, (t) => {
      relayRead ||= t.startsWith('Relay');
      return relayRead && t.startsWith('P2P');
    });

    process.kill(host, 'SIGSEGV');
    // A request made at once may still go into the dead channel: it must be answered all the same.
    const during = await fetchInApp(frame, '/api/hello?during');
    expect(during.status).toBe(200);
    expect(during.text).toContain('hello');
    await watch.finished;
    const seen = watch.seen;

    // The agent's bye closed the dead channel ('channel closed'); without it only
    // the ping monitor would have noticed ('channel unresponsive', ~10 s later).
    const relaySpells = seen.filter((s) => s.transport === 'relay');
    expect(relaySpells.length).toBeGreaterThan(0);
    expect(relaySpells[0]!.reason).toBe('channel closed');
    expect(seen.some((s) => s.transport === 'relay' && /unresponsive/.test(s.reason ?? ''))).toBe(false);
    expect(stack.agent.child.exitCode).toBeNull();

    // The badge said it: the channel closed, P2P was being tried again, then P2P.
    await badge.finished;
    const relayTexts = badge.seen.filter((t) => /^Relay/.test(t));
    expect(relayTexts[0]).toBe('Relay · channel closed');
    expect(relayTexts.every((t) => /^Relay · channel closed( · reconnecting)?$/.test(t))).toBe(true);
    // Back on P2P with no class of requests said to go over the relay: the next request goes over P2P.
    await waitForTransport(browser.page, 'p2p');
    expect(await badgeText(browser.page)).toMatch(/^P2P · unverified( · [\d.]+ ms)?$/);
    expect((await fetchInApp(frame, '/api/hello?after')).transport).toBe('p2p');
  });
});
