/**
 * Work of the P2P set-up done ahead of the signaling (docs/PROTOCOL.md
 * §Pre-gathered candidates): the agent answers each offer from a spare peer
 * connection whose candidates were gathered before the offer came, and makes
 * a new spare after each; the shell's inline script makes its peer
 * connection and offer while its signaling socket connects, before the hello.
 */
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { inPage, openShell, waitForTransport, WAIT_MS } from './support/shell';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

interface PeerEvent {
  event: string;
  viewerId?: string;
  state?: string;
  preGathered?: boolean;
}

describe('P2P set-up done ahead of the signaling', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => void (stack = await startStack()));
  beforeEach(async () => void (browser = await launchChromium()));
  afterEach(() => browser?.close());
  afterAll(() => stack?.close());

  const connected = (from: number): PeerEvent[] =>
    (stack.agent.events.slice(from) as unknown as PeerEvent[]).filter((e) => e.event === 'peer' && e.state === 'connected');

  /** The agent's connected event for this viewer (it reaches the agent's output a moment after the shell turns p2p). */
  const connectedEvent = (from: number, viewerId: string) =>
    until(() => connected(from).find((e) => e.viewerId === viewerId), {
      timeoutMs: WAIT_MS,
      intervalMs: 20,
      what: `the agent's connected event for ${viewerId}`,
    });

  it('answers a first visit and its reload each from a pre-gathered spare: the spare used is replaced', async () => {
    const from = stack.agent.events.length;
    await openShell(browser.page, `${stack.origin}/one`, 'one');
    const first = await waitForTransport(browser.page, 'p2p');
    expect(await connectedEvent(from, first.viewerId!)).toEqual(expect.objectContaining({ preGathered: true }));

    // Each reload makes a new peer connection: the agent answers it from the spare made after the first was used.
    const afterFirst = stack.agent.events.length;
    await browser.page.reload();
    const second = await until(
      async () => {
        const s = await waitForTransport(browser.page, 'p2p');
        return s.viewerId !== first.viewerId ? s : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the reloaded shell on P2P' },
    );
    expect(await connectedEvent(afterFirst, second.viewerId!)).toEqual(expect.objectContaining({ preGathered: true }));
  });

  it("makes the shell's peer connection before the signaling hello arrives, and goes P2P with it", async () => {
    // Records, in the page, when a peer connection is made and when a signaling socket gets its first message (the hello).
    await browser.context.addInitScript(() => {
      const log: string[] = [];
      (window as unknown as { __setupLog: string[] }).__setupLog = log;
      const Pc = window.RTCPeerConnection;
      window.RTCPeerConnection = class extends Pc {
        constructor(config?: RTCConfiguration) {
          super(config);
          log.push('peer connection');
        }
      };
      const Ws = window.WebSocket;
      window.WebSocket = class extends Ws {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          if (String(url).includes('/__wingman/signal')) this.addEventListener('message', () => log.push('signaling message'), { once: true });
        }
      };
    });
    await openShell(browser.page, `${stack.origin}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const log = await inPage(browser.page, () => (window as unknown as { __setupLog: string[] }).__setupLog, undefined);
    // One peer connection, made before the hello: the one that went P2P.
    expect(log).toEqual(['peer connection', 'signaling message']);
  });
});
