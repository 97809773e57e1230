/**
 * Hedged requests over a stalled channel: the agent's P2P host holds its
 * channel's sends for a while when a stream for one target arrives (test hook
 * WINGMAN_TEST_P2P_STALL), as SCTP holds an ordered channel behind a lost
 * packet. The shell notices (nothing arrives, its PING goes unanswered) and
 * the Service Worker sends the GETs waiting there over the relay too: the
 * page gets one answer each, from the relay, and the P2P exchanges are
 * cancelled at the agent.
 * A slow app is no stall: its PONGs come back, and the request is sent once.
 */
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, waitForTransport } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);

/** The request whose stream stalls the agent's channel. */
const STALLED = '/api/hello?stalled=1';
/** Far longer than the shell's stall detection (a few RTTs on loopback, ~0.3 s at most) and than the relay's answer. */
const STALL_MS = 8_000;

describe('hedged requests', () => {
  let stack: Stack;
  let browser: LaunchedChromium;

  beforeAll(async () => {
    stack = await startStack({ agentEnv: { WINGMAN_TEST_P2P_STALL: `${STALLED} ${STALL_MS}` } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('answers GETs waiting on a stalled channel once each, from the relay, and cancels their P2P exchanges at the agent', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    expect((await fetchInApp(frame, '/api/hello?before=1')).transport).toBe('p2p');

    // The app holds the P2P copy's answer, so the cancellation reaches it as a cut-off response.
    const held = stack.app.hold(STALLED, STALL_MS);
    const seen = stack.app.requests.length;
    const first = fetchInApp(frame, STALLED);
    // The agent holds its channel from here: a second request waits behind the first, as in a page load.
    await held.reached;
    const second = fetchInApp(frame, '/api/hello?alongside=1');
    const answers = await Promise.all([first, second]);
    expect(answers.map((r) => [r.status, r.transport])).toEqual([
      [200, 'relay'],
      [200, 'relay'],
    ]);
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ hello: 'world', query: { stalled: '1' } });
    await stack.app.waitForAborted('/api/hello', STALL_MS);
    // Sent twice (P2P, then the relay's copy), answered once.
    expect(stack.app.requests.slice(seen).filter((q) => q.path === STALLED)).toHaveLength(2);
    held.release();

    // The channel carries on once it moves again.
    await waitForTransport(page, 'p2p');
  });

  it('sends a GET the app answers slowly once, over P2P: the channel answers its PINGs meanwhile', async () => {
    const { page } = browser;
    const frame = await openShell(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');
    const slow = '/api/hello?slow=1';
    const held = stack.app.hold(slow, 30_000);
    const seen = stack.app.requests.length;
    const pending = fetchInApp(frame, slow);
    await held.reached;
    // Many quiet periods of a loopback channel (each a few ms, at least STALL_QUIET_EXTRA_MS).
    await new Promise((r) => setTimeout(r, 1_500));
    held.release();
    const r = await pending;
    expect(r.transport).toBe('p2p');
    expect(stack.app.requests.slice(seen).filter((q) => q.path === slow)).toHaveLength(1);
  });
});
