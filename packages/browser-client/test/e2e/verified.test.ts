/**
 * Verified channels in Chromium and Firefox (docs/PROTOCOL.md §Verified
 * channels), against the real tunnel server and agent: a link with the key
 * in its fragment gives `P2P · verified` (its channel bound), the key leaves the visible URL
 * and the app's, and survives a full reload and a second tab opened from
 * the link; a link without it gives `P2P · unverified`; a path to the
 * tunnel server that rewrites the DTLS fingerprints in the relayed SDP and
 * strips the MACs (test/helpers/tampering-proxy.ts) never gets a channel:
 * the shell stays on the relay, its badge says the signaling was altered and
 * its diagnostics page says how.
 */
import type { Page } from 'playwright-core';
import type { Page as PuppeteerPage } from 'puppeteer-core';
import { startTamperingProxy, type TamperingProxy } from '../../../../test/helpers/tampering-proxy';
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { fetchInApp, inPage, openShell, shellStatus, waitForApp, waitForTransport, WAIT_MS, type AnyPage } from './support/shell';
import { startStackWith, type Stack } from './support/stack';

jest.setTimeout(180_000);

/** What the shell's tab shows of the key: its URL, the app frame's URL, the stored key, the badge. */
async function keyFacts(page: AnyPage): Promise<{ href: string; appHref: string; stored: string | null; badge: string }> {
  return inPage(
    page,
    () => ({
      href: location.href,
      appHref: (document.getElementById('wingman-frame') as HTMLIFrameElement).contentWindow?.location.href ?? '',
      stored: sessionStorage.getItem('wingman-link-key'),
      badge: document.querySelector('wingman-status')?.shadowRoot?.querySelector('.t')?.textContent ?? '',
    }),
    undefined,
  );
}

/** Waits until the shell's badge text matches. */
function badge(page: AnyPage, text: RegExp): Promise<string> {
  let last = '';
  return until(
    async () => {
      last = (await keyFacts(page).catch(() => undefined))?.badge ?? last;
      return text.test(last) ? last : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: 100, what: `the badge to read ${text}`, observe: () => last },
  );
}

/** Answers the shell dropped for a missing or wrong MAC, as its errors list them (one each). */
async function droppedAnswers(page: AnyPage): Promise<number> {
  const errors = await inPage(
    page,
    () => (window as unknown as { __wingman: { errors(): Array<{ code: string; message: string }> } }).__wingman.errors(),
    undefined,
  );
  return errors.filter((e) => e.code === 'signal-mac' && e.message.startsWith('dropped the answer')).length;
}

async function verifiedP2p(page: AnyPage): Promise<void> {
  const status = await waitForTransport(page, 'p2p');
  expect(status.verified).toBe(true);
}

/** The same scenarios in both engines; `open` gives a fresh tab of the same browser. */
function scenarios(ctx: () => { stack: Stack; page: AnyPage; newTab(): Promise<AnyPage> }): void {
  it('verifies P2P with a #k link, strips the key from the URL (and the app’s), and keeps it across a reload and in a second tab', async () => {
    const { stack, page } = ctx();
    const link = `${stack.origin}/one?x=1#k=${stack.linkKey}`;
    const frame = await openShell(page as Page, link, 'one');
    await verifiedP2p(page);
    const facts = await keyFacts(page);
    expect(facts.href).toBe(`${stack.origin}/one?x=1`);
    expect(facts.appHref).toBe(`${stack.origin}/one?x=1`);
    expect(facts.stored).toBe(stack.linkKey);
    await badge(page, /^P2P · verified · [\d.]+ ms$/);
    expect((await fetchInApp(frame, '/api/hello')).transport).toBe('p2p');

    await (page as Page).reload();
    await waitForApp(page as Page, 'one');
    await verifiedP2p(page);
    expect((await keyFacts(page)).href).toBe(`${stack.origin}/one?x=1`);

    const second = await ctx().newTab();
    await openShell(second as Page, link, 'one');
    await verifiedP2p(second);
    expect((await keyFacts(second)).stored).toBe(stack.linkKey);
    await (second as Page).close();
  });

  it('connects a link without the key, unverified', async () => {
    const { stack } = ctx();
    const tab = await ctx().newTab();
    await openShell(tab as Page, `${stack.origin}/one`, 'one');
    const status = await waitForTransport(tab, 'p2p');
    expect(status.verified).toBe(false);
    await badge(tab, /^P2P · unverified/);
    await (tab as Page).close();
  });

  describe('through a path that rewrites the DTLS fingerprints and strips the MACs', () => {
    let proxy: TamperingProxy;
    beforeAll(async () => {
      proxy = await startTamperingProxy(ctx().stack.serverPort, 'fingerprint-strip-mac');
    });
    afterAll(async () => {
      await proxy?.close();
    });

    it('never gets a channel: the app runs over the relay, the badge says the signaling was altered and the diagnostics page names the dropped answer', async () => {
      const { stack } = ctx();
      const tab = await ctx().newTab();
      const frame = await openShell(tab as Page, proxy.via(`${stack.origin}/one#k=${stack.linkKey}`), 'one');
      // Two attempts: each one's answer is dropped, none reaches P2P, and the badge names the cause. An attempt whose answer
      // the shell dropped has no remote description, so it can never open a channel: the transport is read until the
      // shell has dropped the second attempt's answer (its errors say so, one per dropped answer).
      await waitForTransport(tab, 'relay', /signaling was altered/);
      const seen = new Set<string>();
      await until(
        async () => {
          seen.add((await shellStatus(tab)).transport);
          return (await droppedAnswers(tab)) >= 2 || undefined;
        },
        { timeoutMs: WAIT_MS, intervalMs: 100, what: "the shell to drop the second attempt's answer", observe: () => [...seen] },
      );
      expect([...seen]).toEqual(['relay']);
      expect(proxy.rewritten).toBeGreaterThanOrEqual(2);
      expect((await fetchInApp(frame, '/api/hello')).transport).toBe('relay');
      const diag = await ctx().newTab();
      await (diag as Page).goto(proxy.via(`${stack.origin}/__wingman/diagnostics`));
      await (diag as Page).waitForSelector('body[data-ready="1"]', { timeout: WAIT_MS });
      const text = await inPage(diag, () => document.body.innerText, undefined);
      expect(text).toMatch(/no verified channel yet · \d+ signaling message\(s\) or channel\(s\) refused by the link key's checks/);
      expect(text).toMatch(/signal-mac: dropped the answer: no MAC/);
      expect(text).toMatch(/altered: no data channel within \d+ ms \(\d+ signaling message\(s\) dropped for a missing or wrong MAC/);
      await (diag as Page).close();
      await (tab as Page).close();
    });
  });
}

describe('verified channels in Chromium', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    [stack, browser] = await startStackWith(launchChromium);
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });
  scenarios(() => ({ stack, page: browser.page, newTab: () => browser.context.newPage() }));
});

describe('verified channels in Firefox', () => {
  let stack: Stack;
  let firefox: LaunchedFirefox;
  beforeAll(async () => {
    [stack, firefox] = await startStackWith(launchFirefox);
  });
  afterAll(async () => {
    await firefox?.close();
    await stack?.close();
  });
  scenarios(() => ({ stack, page: firefox.page, newTab: (): Promise<PuppeteerPage> => firefox.browser.newPage() }));
});
