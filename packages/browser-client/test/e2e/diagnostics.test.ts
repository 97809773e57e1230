/**
 * The viewer diagnostics page (/__wingman/diagnostics): opened from the
 * badge next to the app, it shows the shell's transport, the selected ICE
 * pair's candidate types, RTT and channel bytes, and never an address; on a
 * relay-only session it says relay and why. On both it names the browser by
 * the viewer id the developer's agent shows for it.
 */
import type { Page } from 'playwright-core';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { fetchInApp, openShell, shellStatus, waitForTransport, WAIT_MS, type ShellStatus } from './support/shell';
import { until } from '../../../../test/helpers/wait';
import { startStack, type Stack, type StackOptions } from './support/stack';

jest.setTimeout(90_000);

interface Report {
  transport: string;
  why?: string;
  userAgent: string;
  serviceWorker: string;
  routes?: Record<string, number>;
  swChannels?: string[];
  session?: { viewer?: string };
  shells: Array<{
    sessionId: string;
    shellId: string;
    transport: string;
    rttMs?: number;
    loss?: { sent: number; lost: number; lossy: boolean };
    bytesSent?: number;
    bytesReceived?: number;
    ice?: { local: string; remote: string; protocol: string };
    errors: unknown[];
  }>;
}

async function readDiagnostics(page: Page): Promise<{ report: Report; text: string; html: string }> {
  await page.waitForSelector('body[data-ready="1"]', { timeout: WAIT_MS });
  const report = JSON.parse((await page.textContent('#report')) ?? '') as Report;
  return { report, text: await page.innerText('body'), html: await page.content() };
}

function withStack(options: StackOptions, body: (ctx: () => { stack: Stack; browser: LaunchedChromium }) => void): void {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    stack = await startStack(options);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  body(() => ({ stack, browser }));
}

describe('the diagnostics page of a P2P session', () => {
  withStack({}, (ctx) => {
    it('opens from the badge and shows p2p, the host candidate pair, RTT, the loss probe and channel bytes, without addresses', async () => {
      const { stack, browser } = ctx();
      const frame = await openShell(browser.page, `${stack.origin}/one`, 'one');
      await waitForTransport(browser.page, 'p2p');
      // The RTT, and the loss probe's end (docs/PROTOCOL.md §Loss probe); a timeout shows the last status.
      let last: ShellStatus | undefined;
      await until(
        async () => {
          last = await shellStatus(browser.page);
          return (last.rttMs !== undefined && (last as { loss?: unknown }).loss !== undefined) || undefined;
        },
        { timeoutMs: WAIT_MS, what: "the shell's RTT and loss probe figures", observe: () => last },
      );
      expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');

      const [diag] = await Promise.all([browser.context.waitForEvent('page', { timeout: WAIT_MS }), browser.page.click('wingman-status a')]);
      await diag.waitForLoadState();
      expect(new URL(diag.url()).pathname).toBe('/__wingman/diagnostics');
      const { report, text, html } = await readDiagnostics(diag);

      expect(report.transport).toBe('p2p');
      expect(report.shells).toHaveLength(1);
      const shell = report.shells[0]!;
      expect(shell.sessionId).toBe(stack.sessionId);
      expect(shell.ice).toMatchObject({ local: 'host', protocol: 'udp' });
      expect(['host', 'prflx']).toContain(shell.ice?.remote);
      expect(shell.rttMs).toEqual(expect.any(Number));
      // The agent answered every probe: loopback loses nothing.
      expect(shell.loss).toEqual({ sent: 128, lost: 0, lossy: false });
      expect(text).toContain('0 of 128 probes lost');
      expect(shell.bytesSent).toBeGreaterThan(0);
      expect(shell.bytesReceived).toBeGreaterThan(0);
      expect(report.serviceWorker).toBe('active');
      expect(report.userAgent).toContain('Chrome');
      expect(text).toContain(`p2p`);
      expect(text).toMatch(/host → (host|prflx) over udp/);
      // Why the app's requests went the way they did: the Service Worker's counts by route.
      expect(report.routes?.['p2p default']).toBeGreaterThanOrEqual(1);
      // And which shells it would send a request over now: this one.
      expect(report.swChannels).toEqual([shell.shellId]);
      expect(text).toMatch(/p2p · default \d+/);
      // This browser as the developer sees it: the visitor id of the agent's P2P report for this channel.
      const connected = stack.agent.events.find((e) => e.event === 'peer' && e.state === 'connected');
      expect(connected?.viewer).toMatch(/^[0-9a-f]{32}$/);
      expect(report.session?.viewer).toBe(connected!.viewer);
      expect(stack.agent.events).toContainEqual(expect.objectContaining({ event: 'viewer', id: connected!.viewer, state: 'admitted' }));
      expect(text).toContain(`viewer ${String(connected!.viewer).slice(0, 8)} (${String(connected!.viewer)})`);
      expect(html).not.toContain('127.0.0.1');
      // Nothing address-shaped either (a user agent's version such as 120.0.0.0 is not an address).
      expect(html.split(report.userAgent).join('')).not.toMatch(/\b\d{1,3}(\.\d{1,3}){3}\b/);
      await diag.close();
    });

    it('lists a dropped channel among the recent errors, with its time, code and cause', async () => {
      const { stack, browser } = ctx();
      await openShell(browser.page, `${stack.origin}/one`, 'one');
      const before = await waitForTransport(browser.page, 'p2p');
      expect(await browser.page.evaluate(() => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel())).toBe(true);
      // The shell noticed: on the relay, or already on a new channel (a new viewer id).
      await browser.page.waitForFunction(
        (old) => {
          const s = (window as unknown as { __wingman: { status(): { transport: string; viewerId?: string } } }).__wingman.status();
          return s.transport === 'relay' || s.viewerId !== old;
        },
        before.viewerId,
        { timeout: WAIT_MS, polling: 50 },
      );
      const diag = await browser.context.newPage();
      await diag.goto(`${stack.origin}/__wingman/diagnostics`);
      const { report, text } = await readDiagnostics(diag);
      // The cause rides along: the data channel itself closed (not a GOAWAY from the agent, not a ping timeout).
      expect(report.shells[0]?.errors).toContainEqual({
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        code: 'channel-closed',
        message: 'channel closed: ERR_CONNECTION_LOST: transport closed',
      });
      expect(text).toContain('channel-closed');
      await diag.close();
    });

    it('says no app tab is open when the shell is gone, and still shows the Service Worker', async () => {
      const { stack, browser } = ctx();
      await browser.page.goto('about:blank');
      const diag = await browser.context.newPage();
      await diag.goto(`${stack.origin}/__wingman/diagnostics`);
      const { report, text } = await readDiagnostics(diag);
      expect(report.shells).toHaveLength(0);
      expect(report.transport).toBe('unknown');
      expect(report.why).toBe('no tab of the app is open in this browser');
      expect(report.serviceWorker).toBe('active');
      expect(text).toContain('none: open the app in this browser');
      await diag.close();
    });
  });
});

describe('the diagnostics page of a relay-only session (--no-p2p)', () => {
  withStack({ agentP2p: false }, (ctx) => {
    it('shows relay and that the agent disabled P2P', async () => {
      const { stack, browser } = ctx();
      await browser.page.goto(`${stack.origin}/__wingman/diagnostics`);
      const { report, text } = await readDiagnostics(browser.page);
      expect(report).toMatchObject({ transport: 'relay', why: 'P2P disabled by the agent', shells: [], serviceWorker: 'none' });
      expect(text).toContain('relay (P2P disabled by the agent)');
      // The agent announced this browser (by its User-Agent) under the id the page shows.
      const browserViewer = await stack.agent.waitFor(
        (e) => e.event === 'viewer' && String(e.userAgent).includes('Chrome'),
        WAIT_MS,
        'the viewer event of the browser',
      );
      expect(browserViewer?.id).toMatch(/^[0-9a-f]{32}$/);
      expect(report.session?.viewer).toBe(browserViewer!.id);
      expect(text).toContain(`viewer ${String(browserViewer!.id).slice(0, 8)} (${String(browserViewer!.id)})`);
    });
  });
});
