/**
 * States of the shell's badge that only a fault produces, each brought about
 * for real and read as the reviewer reads it (the badge's text), with the
 * page's requests going where the badge says: a path to the tunnel server
 * that refuses the signaling WebSocket (a proxy without WebSocket support),
 * one that rewrites the DTLS fingerprints of a link without its key (test/helpers/tampering-proxy.ts),
 * an agent whose P2P host process dies before answering the page's offer, one whose P2P host
 * stops answering (SIGSTOP) and then comes back, and one whose channel-binding
 * proof does not match (support/wrong-bind-proof.cjs) for a link with its key. Real Chromium, real tunnel server and agent processes.
 * test/unit/badge.test.ts lists every state and the test that produces it.
 */
import type { Page, WebSocketRoute } from 'playwright-core';
import { startTamperingProxy, type TamperingProxy } from '../../../../test/helpers/tampering-proxy';
import { metricSum } from '../../../../test/helpers/http-client';
import { hostProcessPids, p2pHostOf } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import {
  ICE_DEADLINE_FALLBACK_MS,
  MAX_MISSED_PINGS,
  RETRY_BASE_MS,
  RETRY_MAX_ATTEMPTS,
  RETRY_MAX_MS,
  RTT_INTERVAL_MS,
  RTT_PING_TIMEOUT_MS,
} from '../../src/shared/constants';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { badgeText, fetchInApp, inPage, openShell, waitForTransport, watchBadge, WAIT_MS } from './support/shell';
import { startStack, startStackWith, wrongBindProofAgentEnv, type Stack } from './support/stack';

jest.setTimeout(180_000);

/** How often the page's badge is read where nothing announces its change, ms. */
const READ_EVERY_MS = 50;
/** How far the page's clock is run between two reads of the badge: well within RETRY_BASE_MS and SIGNAL_HELLO_TIMEOUT_MS. */
const CLOCK_STEP_MS = RETRY_BASE_MS / 4;

/** Waits until the badge reads `text`. */
function badgeReads(page: Page, text: string): Promise<string> {
  let last: string | null = null;
  return until(
    async () => {
      last = await badgeText(page);
      return last === text ? last : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: READ_EVERY_MS, what: `the badge to read "${text}"`, observe: () => last },
  );
}

describe("the shell's badge after faults", () => {
  let stack: Stack;
  /**
   * One Chromium for the blocks whose pages keep the real clock (page.clock is the whole context's), a page of its own
   * each: their origins differ (each block's stack or proxy has its own session or port), so none sees another's
   * Service Worker, storage or cookies.
   */
  let shared: LaunchedChromium;

  beforeAll(async () => {
    [stack, shared] = await startStackWith(launchChromium);
  });

  afterAll(async () => {
    await shared?.close();
    await stack?.close();
  });

  describe('with a path to the server that refuses the signaling WebSocket', () => {
    let browser: LaunchedChromium;

    beforeAll(async () => {
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('says it is connecting, then that signaling failed, that it tries again, and at last that it gave up; the app runs over the relay', async () => {
      const { page } = browser;
      // The page's retries back off to RETRY_MAX_MS: its clock is run forward rather than waited for.
      await page.clock.install();
      const sockets: WebSocketRoute[] = [];
      let refuseAtOnce = false;
      // The socket opens (as through a proxy) and closes before the server's hello: what the page sees of a refusal.
      await page.routeWebSocket(/\/__wingman\/signal/, (ws) => {
        if (refuseAtOnce) return void ws.close();
        sockets.push(ws);
      });
      const opened = openShell(page, `${stack.origin}/one`, 'one');
      await until(() => sockets.length === 1 || undefined, { timeoutMs: WAIT_MS, intervalMs: READ_EVERY_MS, what: "the page's first signaling socket" });
      await badgeReads(page, 'Relay · connecting');
      await sockets[0]!.close();
      await badgeReads(page, 'Relay · signaling failed');
      const frame = await opened;

      // The next try (RETRY_BASE_MS later), while its socket is held open: the badge says it tries again.
      await until(() => sockets.length === 2 || undefined, { timeoutMs: WAIT_MS, intervalMs: READ_EVERY_MS, what: "the page's second signaling socket" });
      await badgeReads(page, 'Relay · signaling failed · reconnecting');
      refuseAtOnce = true;
      await sockets[1]!.close();

      // Every further try is refused at once, until the page stops trying.
      let last: string | null = null;
      await until(
        async () => {
          await page.clock.runFor(RETRY_MAX_MS);
          last = await badgeText(page);
          return last === 'Relay · signaling failed · gave up' || undefined;
        },
        { timeoutMs: WAIT_MS * 2, intervalMs: READ_EVERY_MS, what: `the page to give up after ${RETRY_MAX_ATTEMPTS} failures`, observe: () => last },
      );
      const r = await fetchInApp(frame, '/api/hello?gave-up');
      expect({ status: r.status, transport: r.transport }).toEqual({ status: 200, transport: 'relay' });
    });
  });

  describe('with a path to the server that rewrites the DTLS fingerprints, for a link without its key', () => {
    let page: Page;
    let proxy: TamperingProxy;

    beforeAll(async () => {
      page = await shared.context.newPage();
      proxy = await startTamperingProxy(stack.serverPort, 'fingerprint');
    });

    afterAll(async () => {
      await page?.close();
      await proxy?.close();
    });

    it('never gets a channel (DTLS refuses the other certificate), says ICE failed, and the app runs over the relay', async () => {
      const frame = await openShell(page, proxy.via(`${stack.origin}/one`), 'one');
      const status = await waitForTransport(page, 'relay', /^ICE /);
      expect(proxy.rewritten).toBeGreaterThan(0);
      expect(status.reason).toMatch(/^ICE failed( · reconnecting)?$/);
      expect(await badgeText(page)).toMatch(/^Relay · ICE failed( · reconnecting)?$/);
      const r = await fetchInApp(frame, '/api/hello?no-channel');
      expect({ status: r.status, transport: r.transport }).toEqual({ status: 200, transport: 'relay' });
    });
  });

  describe('with a P2P host process that dies before answering the offer', () => {
    let page: Page;
    /** An agent of its own (its close ends every process the file started: only blocks with a stack of their own follow), whose spare host is frozen and killed. */
    let refusing: Stack;

    beforeAll(async () => {
      [refusing, page] = await Promise.all([startStack(), shared.context.newPage()]);
    });

    afterAll(async () => {
      await page?.close();
      await refusing?.close();
    });

    it('says the agent refused P2P, and P2P with the next offer', async () => {
      // Before any viewer, the agent's one child is the spare host process that the page's offer goes to.
      const spare = await until(
        () => {
          const now = hostProcessPids(refusing.agent.child.pid!);
          return now.length === 1 ? now[0] : undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: READ_EVERY_MS, what: 'the spare P2P host process', observe: () => hostProcessPids(refusing.agent.child.pid!) },
      );
      // Frozen, it takes the offer into its IPC pipe and never answers it; killed, the agent tells the page ERR_P2P_UNAVAILABLE.
      process.kill(spare, 'SIGSTOP');
      const before = await metricSum(refusing.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"');
      const frame = await openShell(page, `${refusing.origin}/one`, 'one');
      let relayRead = false;
      const badge = watchBadge(
        page,
        (t) => {
          relayRead ||= t.startsWith('Relay');
          return relayRead && t.startsWith('P2P');
        },
        3 * WAIT_MS,
      );
      try {
        await until(async () => (await metricSum(refusing.serverPort, 'wingman_signaling_messages_total', 'direction="viewer-to-agent"')) > before, {
          timeoutMs: WAIT_MS,
          what: "the page's offer to reach the agent",
        });
      } finally {
        process.kill(spare, 'SIGKILL');
      }
      await badge.finished;
      expect(badge.seen).toContainEqual(expect.stringMatching(/^Relay · refused by agent( · reconnecting)?$/));
      await waitForTransport(page, 'p2p');
      expect((await fetchInApp(frame, '/api/hello?host-back')).transport).toBe('p2p');
    });
  });
  describe('with the P2P host processes frozen (SIGSTOP)', () => {
    let browser: LaunchedChromium;
    let frozen: number[] = [];
    /** An agent of its own: before its first viewer, its one child is the spare that the page's offer takes. */
    let own: Stack;

    beforeAll(async () => {
      [own, browser] = await startStackWith(launchChromium);
    });

    afterAll(async () => {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // The agent ended it meanwhile.
        }
      }
      await browser?.close();
      await own?.close();
    });

    it('says the channel is unresponsive, that ICE timed out at the frozen spare, and P2P over a new host process', async () => {
      const { page } = browser;
      // The page's heartbeat and its ICE deadline wait on the page's clock: it is run forward below rather than waited for.
      await page.clock.install();
      const children = () => hostProcessPids(own.agent.child.pid!);
      const spare = await until(() => (children().length === 1 ? children()[0] : undefined), {
        timeoutMs: WAIT_MS,
        intervalMs: READ_EVERY_MS,
        what: 'the spare P2P host process',
        observe: children,
      });
      const frame = await openShell(page, `${own.origin}/one`, 'one');
      const { viewerId } = await waitForTransport(page, 'p2p');
      expect(await p2pHostOf(own.agent, viewerId)).toBe(spare);
      // The spare started after the page's took it: the page's next attempt (a new viewer) goes there.
      const nextSpare = await until(() => children().find((pid) => pid !== spare), {
        timeoutMs: WAIT_MS,
        intervalMs: READ_EVERY_MS,
        what: 'the next spare P2P host process',
        observe: children,
      });

      // Nothing closes: only the page's heartbeat can tell (MAX_MISSED_PINGS unanswered PINGs), then its next attempt's deadline.
      // Both wait on the page's clock, which is run forward CLOCK_STEP_MS at a time, the badge read between steps (each text
      // read kept in `seen`): a step fires what falls due in it (a PING sent over the real channel to the frozen host, a
      // PING's timeout, the retry, the ICE deadline). Where the page waits on the network instead (the next attempt's
      // signaling), the clock flows at its own pace.
      const seen: string[] = [];
      const read = async () => {
        const text = (await badgeText(page)) ?? '(no badge)';
        if (seen[seen.length - 1] !== text) seen.push(text);
        return text;
      };
      const runClockUntil = async (done: (text: string) => boolean, withinMs: number, what: string) => {
        for (let ranMs = 0; !done(await read()); ranMs += CLOCK_STEP_MS) {
          if (ranMs > withinMs) throw new Error(`${what}: not within ${withinMs} ms of the page's clock; the badge read ${JSON.stringify(seen)}`);
          await page.clock.runFor(CLOCK_STEP_MS);
        }
      };
      // The shell's offers, counted as its signaling socket sends them: an attempt sends its offer once the server's hello
      // has set its ICE deadline (attempt.ts), the one timer it then waits on.
      await inPage(
        page,
        () => {
          const w = window as unknown as { offersSent: number };
          w.offersSent = 0;
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (this: WebSocket, data: Parameters<WebSocket['send']>[0]) {
            if (typeof data === 'string' && data.includes('"type":"offer"')) w.offersSent++;
            return send.call(this, data);
          };
        },
        undefined,
      );
      frozen = [spare, nextSpare];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      // Within heartbeatMs (an interval to the next PING, then a timeout per missed PING) and an interval's slack.
      const heartbeatMs = (MAX_MISSED_PINGS + 1) * RTT_PING_TIMEOUT_MS;
      await runClockUntil((t) => t.startsWith('Relay · channel unresponsive'), heartbeatMs + RTT_INTERVAL_MS, 'the heartbeat to find the channel dead');
      // The retry, RETRY_BASE_MS later; the clock stops being run within a step of its start, before its signaling.
      await runClockUntil((t) => t.endsWith(' · reconnecting'), RETRY_BASE_MS, 'the next attempt to start');
      let offers = 0;
      await until(
        async () => {
          await read();
          offers = await inPage(page, () => (window as unknown as { offersSent: number }).offersSent, undefined);
          return offers > 0 || undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: READ_EVERY_MS, what: 'the next attempt to send its offer', observe: () => ({ offers, seen }) },
      );
      // The attempt at the frozen spare cannot open a channel before its deadline: the app runs over the relay meanwhile.
      expect((await fetchInApp(frame, '/api/hello?frozen')).transport).toBe('relay');
      // The clock stops being run within a step of the deadline: the attempt after it starts RETRY_BASE_MS or more later.
      await runClockUntil((t) => t === 'Relay · ICE timeout', ICE_DEADLINE_FALLBACK_MS, 'the ICE deadline at the frozen spare');
      // Whichever notices first, the page's heartbeat or the browser's ICE checks: the same word.
      const relayTexts = seen.filter((t) => t.startsWith('Relay'));
      expect(relayTexts.slice(0, 2)).toEqual(['Relay · channel unresponsive', 'Relay · channel unresponsive · reconnecting']);

      // The spare after that one was never frozen: P2P is back with the processes still stopped.
      const back = await waitForTransport(page, 'p2p').catch((err: unknown) => {
        // A shell left at "agent offline" means the session lost its agent: say what the agent and the server printed.
        const agent = own.agent.isRunning() ? 'running' : 'exited';
        throw new Error(`${String(err)}\nthe agent (${agent}), its last output:\n${own.agent.tail()}\nthe tunnel server's:\n${own.server.tail()}`);
      });
      expect(frozen).not.toContain(await p2pHostOf(own.agent, back.viewerId));
      expect(await badgeText(page)).toMatch(/^P2P · unverified( · [\d.]+ ms)?$/);
      expect((await fetchInApp(frame, '/api/hello?new-host')).transport).toBe('p2p');
    });
  });

  describe('with an agent whose channel-binding proof does not match, for a link with its key', () => {
    let page: Page;
    /** An agent of its own that sends a wrong proof (support/wrong-bind-proof.cjs). */
    let wrongProof: Stack;

    beforeAll(async () => {
      [wrongProof, page] = await Promise.all([startStack({ agentEnv: wrongBindProofAgentEnv() }), shared.context.newPage()]);
    });

    afterAll(async () => {
      await page?.close();
      await wrongProof?.close();
    });

    it("says the channel is not verified (signaling's MACs passed, the binding did not), and the app runs over the relay", async () => {
      const frame = await openShell(page, `${wrongProof.origin}/one#k=${wrongProof.linkKey}`, 'one');
      const status = await waitForTransport(page, 'relay', /^channel not verified/);
      expect(status.reason).toMatch(/^channel not verified( · reconnecting| · gave up)?$/);
      expect(await badgeText(page)).toMatch(/^Relay · channel not verified( · reconnecting| · gave up)?$/);
      const r = await fetchInApp(frame, '/api/hello?not-verified');
      expect({ status: r.status, transport: r.transport }).toEqual({ status: 200, transport: 'relay' });
    });
  });
});
