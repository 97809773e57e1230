/**
 * Resumed peer connections (docs/PROTOCOL.md §Resumed peer connections): a
 * shell whose channel is up prepares its tab's next page load's peer
 * connection with the agent, and the reload applies the kept answer before
 * the agent's own comes back through the server.
 */
import { until } from '../../../../test/helpers/wait';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { launchFirefox, type LaunchedFirefox } from './helpers/firefox';
import { fetchInApp, inPage, openShell, waitForApp, waitForTransport, WAIT_MS } from './support/shell';
import { misaddressBatches, recordSentSignals, sentOnceAnswered, sentSignals, type SentSignal } from './support/sent-signals';
import { startStack, type Stack } from './support/stack';

jest.setTimeout(90_000);

const RECORD_ITEM = 'wingman-resume';
/** The latency farServer() adds to each of the page's requests, ms. */
const FAR_SERVER_LATENCY_MS = 400;

interface PeerEvent {
  event: string;
  viewerId?: string;
  state?: string;
  reason?: string;
  resumed?: boolean;
}

type Timeline = Record<string, number>;

type AnyShellPage = LaunchedChromium['page'] | LaunchedFirefox['page'];

function timeline(page: AnyShellPage): Promise<Timeline> {
  return inPage(page, () => (window as unknown as { __wingman: { timeline(): Timeline } }).__wingman.timeline(), undefined);
}

/**
 * The server a WAN round trip away from the page (DevTools' latency on each
 * of its requests and its signaling socket): a reload's hello then comes
 * after the kept certificate is read, as on a real network, and the claim
 * leaves as a signal batch (on loopback the hello may win that race, and
 * the claim then rightly goes on the open socket).
 */
async function farServer(browser: LaunchedChromium): Promise<void> {
  // Well past the kept certificate's read from IndexedDB on a busy machine (tens of ms idle).
  const cdp = await browser.context.newCDPSession(browser.page);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: FAR_SERVER_LATENCY_MS, downloadThroughput: -1, uploadThroughput: -1 });
}

/** The tab's kept record, once there (the shell prepares a moment after its channel is up). */
function keptRecord(page: AnyShellPage): Promise<{ resume: string; answer: string }> {
  return until(
    async () => {
      const text = await inPage(page, (item) => sessionStorage.getItem(item), RECORD_ITEM);
      return text ? (JSON.parse(text) as { resume: string; answer: string }) : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: 100, what: "the tab's resume record" },
  );
}

// One peer connection per viewer here: the agent reports a viewer once, by the first of its peer connections to come up,
// so the report read below can only be the resumed peer connection's.
describe('a reload resumes the peer connection its previous page prepared (one peer connection per viewer)', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => void (stack = await startStack({ serverEnv: { P2P_PEER_CONNECTIONS: '1' } })));
  beforeEach(async () => void (browser = await launchChromium()));
  afterEach(() => browser?.close());
  afterAll(() => stack?.close());

  it('applies the kept answer at once: the channel comes up verified over the prepared peer connection', async () => {
    await browser.context.addInitScript(recordSentSignals);
    await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const record = await keptRecord(browser.page);
    expect(record.resume).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const from = stack.agent.events.length;
    await farServer(browser);
    await browser.page.reload();
    const frame = await waitForApp(browser.page, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.verified).toBe(true);
    const marks = await timeline(browser.page);
    // The kept answer went in before the agent's own answer came back through the server.
    expect(marks.resumed).toBeDefined();
    expect(marks.answer).toBeLessThan(marks['answer-in']!);
    // The claim and its first candidates left as a signal batch, before the socket's hello, and the server took it.
    expect(marks.offer).toBeLessThan(marks.hello!);
    const sent = await sentOnceAnswered(browser.page, (all) => all.some((m) => m.type === 'offer'));
    const claims = sent.filter((m) => m.type === 'offer');
    expect(claims).toEqual([expect.objectContaining({ resume: record.resume, batch: 204 })]);
    expect(sent.filter((m) => m.batch !== undefined && m.type === 'ice-candidate').length).toBeGreaterThan(0);
    // The token was taken: a second reload would not claim it again.
    expect(String(await inPage(browser.page, (item) => sessionStorage.getItem(item), RECORD_ITEM))).not.toContain(record.resume);

    const r = await fetchInApp(frame, '/api/hello?via=resumed');
    expect(r.transport).toBe('p2p');
    const peers = (stack.agent.events.slice(from) as unknown as PeerEvent[]).filter((e) => e.event === 'peer');
    // The agent's word: it handed the reload's viewer the peer connection it prepared (its one connected report says so).
    const connected = peers.filter((e) => e.state === 'connected' && e.viewerId === status.viewerId);
    expect(connected).toHaveLength(1);
    expect(connected[0]).toMatchObject({ resumed: true });
  });
});

describe('a reload resumes the peer connection its previous page prepared', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => void (stack = await startStack()));
  beforeEach(async () => void (browser = await launchChromium()));
  afterEach(() => browser?.close());
  afterAll(() => stack?.close());

  const peerEvents = (from: number): PeerEvent[] => (stack.agent.events.slice(from) as unknown as PeerEvent[]).filter((e) => e.event === 'peer');

  it("sends the claim before the other peer connection's offer", async () => {
    await browser.context.addInitScript(recordSentSignals);
    await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'p2p');
    await keptRecord(browser.page);
    await farServer(browser);
    await browser.page.reload();
    await waitForApp(browser.page, 'one');
    await waitForTransport(browser.page, 'p2p');
    expect((await timeline(browser.page)).resumed).toBeDefined();
    const offers = (await sentOnceAnswered(browser.page, (all) => all.filter((m) => m.type === 'offer').length >= 2)).filter((m) => m.type === 'offer');
    expect(offers.map((m) => ({ pc: m.pc ?? 0, claim: typeof m.resume === 'string', batch: m.batch }))).toEqual([
      { pc: 0, claim: true, batch: 204 },
      { pc: 1, claim: false, batch: undefined },
    ]);
  });

  it("sends a refused signal batch's claim on the socket, and still resumes", async () => {
    await browser.context.addInitScript(recordSentSignals);
    await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const record = await keptRecord(browser.page);
    await browser.context.addInitScript(misaddressBatches);
    await farServer(browser);
    const from = stack.agent.events.length;
    await browser.page.reload();
    await waitForApp(browser.page, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.verified).toBe(true);
    const isClaim = (m: SentSignal) => m.type === 'offer' && m.resume === record.resume;
    const claims = (await sentOnceAnswered(browser.page, (all) => all.filter(isClaim).length >= 2)).filter(isClaim);
    // Once in the batch (refused: no socket of that viewer), then on the socket, MACed for the hello's viewer id.
    expect(claims.map((m) => m.batch ?? 'socket')).toEqual([404, 'socket']);
    expect(peerEvents(from).filter((e) => e.state === 'connected' && e.viewerId === status.viewerId)).toEqual([expect.objectContaining({ resumed: true })]);
  });

  it('goes on without it when the agent no longer has the prepared peer connection', async () => {
    await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'p2p');
    await keptRecord(browser.page);
    // A token the agent never gave (as after an agent restart): its claim is refused, the load still gets P2P.
    await inPage(
      browser.page,
      (item) => {
        const r = JSON.parse(sessionStorage.getItem(item)!) as { resume: string };
        sessionStorage.setItem(item, JSON.stringify({ ...r, resume: 'A'.repeat(22) }));
      },
      RECORD_ITEM,
    );
    const from = stack.agent.events.length;
    await browser.page.reload();
    const frame = await waitForApp(browser.page, 'one');
    const status = await waitForTransport(browser.page, 'p2p');
    expect(status.verified).toBe(true);
    expect((await timeline(browser.page)).resumed).toBeDefined();
    expect((await fetchInApp(frame, '/api/hello?via=unknown-token')).transport).toBe('p2p');
    // The agent refused the claim: the session came up on a peer connection negotiated from scratch.
    const connected = peerEvents(from).filter((e) => e.state === 'connected');
    expect(connected.length).toBeGreaterThan(0);
    expect(connected.filter((e) => e.resumed === true)).toEqual([]);
  });
});

describe('with P2P_RESUME=false on the server', () => {
  let stack: Stack;
  let browser: LaunchedChromium;
  beforeAll(async () => {
    stack = await startStack({ serverEnv: { P2P_RESUME: 'false' } });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('prepares nothing: the tab keeps no record', async () => {
    await openShell(browser.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(browser.page, 'p2p');
    // Past the moment a session prepares (RESUME_PREPARE_DELAY_MS) with room to spare.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await inPage(browser.page, (item) => sessionStorage.getItem(item), RECORD_ITEM)).toBeNull();
  });
});

describe('in Firefox', () => {
  let stack: Stack;
  let firefox: LaunchedFirefox;
  beforeAll(async () => {
    stack = await startStack();
    firefox = await launchFirefox();
  });
  afterAll(async () => {
    await firefox?.close();
    await stack?.close();
  });

  it('prepares, and the reload resumes the prepared peer connection', async () => {
    await firefox.page.evaluateOnNewDocument(recordSentSignals);
    await openShell(firefox.page, `${stack.origin}/one#k=${stack.linkKey}`, 'one');
    await waitForTransport(firefox.page, 'p2p');
    await keptRecord(firefox.page);
    const firstPage = await sentDescriptions(firefox.page);
    expect(firstPage.map((m) => m.type)).toEqual(expect.arrayContaining(['offer', 'prepare']));
    // Firefox keeps a=rtcp-fb lines for the codecs the shell's video section left out; libwebrtc refuses an offer with them.
    for (const m of firstPage) expect({ type: m.type, unlisted: unlistedFormatLines(m.sdp) }).toEqual({ type: m.type, unlisted: [] });
    const from = stack.agent.events.length;
    await firefox.page.reload();
    const frame = await waitForApp(firefox.page, 'one');
    const status = await waitForTransport(firefox.page, 'p2p');
    expect(status.verified).toBe(true);
    expect((await timeline(firefox.page)).resumed).toBeDefined();
    expect((await fetchInApp(frame, '/api/hello?via=firefox-resumed')).transport).toBe('p2p');
    const connected = (stack.agent.events.slice(from) as unknown as PeerEvent[]).filter((e) => e.event === 'peer' && e.state === 'connected');
    expect(connected).toEqual([expect.objectContaining({ viewerId: status.viewerId, resumed: true })]);
    const reloaded = await sentDescriptions(firefox.page);
    expect(reloaded.some((m) => m.type === 'offer')).toBe(true);
    for (const m of reloaded) expect({ type: m.type, unlisted: unlistedFormatLines(m.sdp) }).toEqual({ type: m.type, unlisted: [] });
  });
});

/** The offers and prepares the page sent on its signaling sockets. */
async function sentDescriptions(page: AnyShellPage): Promise<Array<{ type: string; sdp: string }>> {
  return (await sentSignals(page)).filter((m): m is { type: string; sdp: string } => (m.type === 'offer' || m.type === 'prepare') && typeof m.sdp === 'string');
}

/** An SDP's a=rtpmap / a=fmtp / a=rtcp-fb lines for payload types their section's m= line does not list. */
function unlistedFormatLines(sdp: string): string[] {
  const out: string[] = [];
  let listed: string[] | undefined;
  for (const line of sdp.split('\r\n')) {
    if (line.startsWith('m=')) listed = line.split(' ').slice(3);
    const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\S+)/.exec(line)?.[1];
    if (listed && pt !== undefined && pt !== '*' && !listed.includes(pt)) out.push(line);
  }
  return out;
}
