/**
 * The P2P attempt the shell's inline script starts before client.js has
 * arrived (src/page/attempt.ts): it applies the agent's answer and
 * candidates itself, so its channel can open before client.js runs; what the
 * channel receives meanwhile (the agent's binding proof and HELLO) is held
 * until client.js's Connection listens. client.js carries that very attempt
 * on (the same signaling socket, peer connection and channel), whatever
 * point it reached.
 */
import type { BrowserContext } from 'playwright-core';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, inPage, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { watchInlineMark } from './support/inline-mark';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

interface PeerEvent {
  event: string;
  viewerId?: string;
  state?: string;
}

describe('the P2P attempt started by the shell inline script', () => {
  let stack: Stack;
  // A fresh browser per test: each is a first visit (no Service Worker, client.js not cached).
  let browser: LaunchedChromium;
  /** The agent's events from this test on. */
  let testFrom = 0;
  beforeAll(async () => void (stack = await startStack()));
  beforeEach(async () => {
    browser = await launchChromium();
    testFrom = stack.agent.events.length;
  });
  afterEach(async () => {
    await browser?.close();
    // The agent reports each peer of the closed browser gone (its signaling closed, then one PING unanswered):
    // that report belongs to this test, not to the next one's events.
    const viewers = (connected: boolean) => new Set(peerEvents(testFrom).flatMap((e) => ((e.state === 'connected') === connected ? [e.viewerId] : [])));
    await until(() => [...viewers(true)].every((v) => viewers(false).has(v)) || undefined, {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      what: "the agent's report that the closed browser's peers are gone",
    });
  });
  afterAll(() => stack?.close());

  const peerEvents = (from: number): PeerEvent[] => (stack.agent.events.slice(from) as unknown as PeerEvent[]).filter((e) => e.event === 'peer');

  /** Holds client.js until `ready()` holds (at most WAIT_MS); says whether it did. */
  async function holdClientUntil(context: BrowserContext, ready: () => boolean, what: string): Promise<() => boolean | undefined> {
    let reached: boolean | undefined;
    await context.route('**/__wingman/client.js', async (route) => {
      reached = await until(() => ready() || undefined, { timeoutMs: WAIT_MS, intervalMs: 20, what }).catch(() => false);
      await route.continue();
    });
    return () => reached;
  }

  it('opens the channel while client.js is held, and client.js carries that attempt on with what the channel held: one peer, verified, over P2P', async () => {
    const from = stack.agent.events.length;
    let open = false;
    // The attempt gets its answer and its channel open before client.js runs.
    const held = await holdClientUntil(browser.context, () => open, 'the channel open at the inline script');
    const frame = await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    watchInlineMark(browser.page, 'channel-open', () => (open = true));
    const status = await waitForTransport(browser.page, 'p2p');
    expect(held()).toBe(true);
    expect(status.verified).toBe(true);

    const r = await fetchInApp(frame, '/api/hello?via=early');
    expect(r.transport).toBe('p2p');
    const peers = peerEvents(from);
    expect(peers.filter((e) => e.state === 'connected')).toEqual([expect.objectContaining({ viewerId: status.viewerId })]);
    expect(peers.filter((e) => e.state !== 'connected')).toEqual([]);
    // The attempt started before the shell's script ran and applied its answer then; the channel opened before it too.
    const timeline = await inPage(
      browser.page,
      () => (window as unknown as { __wingman: { timeline(): Record<string, number> } }).__wingman.timeline(),
      undefined,
    );
    expect(timeline.attempt).toBeLessThan(timeline.script!);
    expect(timeline.offer).toBeLessThan(timeline.script!);
    expect(timeline['answer-in']).toBeLessThan(timeline.script!);
    expect(timeline.answer).toBeLessThan(timeline.script!);
    expect(timeline['channel-open']).toBeLessThan(timeline.script!);
    expect(timeline.ready).toBeGreaterThan(timeline.script!);
  });

  it('carries on an attempt whose offer is still unanswered when client.js runs', async () => {
    const from = stack.agent.events.length;
    // The signaling hello is in, the answer not yet: the agent's answers are held until client.js ran.
    let releaseAnswers: () => void = () => undefined;
    const answersHeld = new Promise<void>((resolve) => (releaseAnswers = resolve));
    await browser.page.routeWebSocket(/\/__wingman\/signal/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => server.send(m));
      server.onMessage((m) => {
        if (typeof m === 'string' && JSON.parse(m).type === 'hello') ws.send(m);
        else void answersHeld.then(() => ws.send(m));
      });
    });
    const opened = openShell(browser.page, `${stack.origin}/one`, 'one');
    // Released once the shell's script ran (window.__wingman is its last step before the attempt).
    await until(async () => (await inPage(browser.page, () => '__wingman' in window, undefined).catch(() => false)) || undefined, {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      what: "the shell's script to run",
    });
    releaseAnswers();
    await opened;
    const status = await waitForTransport(browser.page, 'p2p');
    // The shell turns p2p on its first channel's HELLO; the agent's event reaches its output a moment later (through the P2P host).
    const peers = await until(() => (peerEvents(from).some((e) => e.state === 'connected') ? peerEvents(from) : undefined), {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      what: "the agent's connected peer event",
    });
    expect(peers.filter((e) => e.state === 'connected')).toEqual([expect.objectContaining({ viewerId: status.viewerId })]);
    expect(peers.filter((e) => e.state !== 'connected')).toEqual([]);
  });

  it('starts nothing in a browser without WebRTC: the shell stays on the relay and the agent sees no peer', async () => {
    await browser.context.addInitScript(() => {
      delete (window as unknown as { RTCPeerConnection?: unknown }).RTCPeerConnection;
    });
    const from = stack.agent.events.length;
    await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'relay', /no WebRTC/);
    expect(peerEvents(from)).toEqual([]);
  });
});
