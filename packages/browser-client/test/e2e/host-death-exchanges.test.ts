/**
 * The agent's P2P host process dies (killed by its pid) while the page has
 * exchanges in flight on its channel: a download the app sends slowly and an
 * upload the app has not read yet. Each must end at once and visibly, or carry
 * on over the relay with the same bytes: the download resumes with a Range
 * request (SHA-256 equal), the upload, which the app had begun to receive,
 * fails with the agent's 502 ERR_ALREADY_RECEIVED: the Service Worker sends
 * it again over the relay, and the agent, which knows the exchange reached
 * the app, does not forward it. The agent says `bye` for each of
 * the dead host's viewers; the page checks its channel against that word
 * (protocol peer-gone.ts) instead of waiting for its heartbeat or ICE to
 * notice, 10–25 s later: the shell's record of why the channel ended names the
 * host's death (the agent's word), never an unanswered heartbeat. How soon the
 * exchange then ends is not asserted: the upload's copy crosses the relay in
 * full before the agent refuses it, as long as the machine's load makes it.
 * In Chromium and Firefox; real processes.
 */
import { p2pHostOf } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { launchEngine, WEBRTC_ENGINES, type LaunchedEngine } from './helpers/engines';
import { unregisterServiceWorkers } from './helpers/browser';
import { patternSha256 } from './support/app';
import { settleBulkFigures } from './support/in-app';
import { fetchInApp, inPage, openShell, WAIT_MS, waitForTransport, type AnyFrame, type AnyPage } from './support/shell';
import { startStackWith, type Stack } from './support/stack';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;

/** What the page's exchange came to: its body's SHA-256 and length, or the error it failed with. */
interface Outcome {
  status?: number;
  route?: string | null;
  error?: string | null;
  sha?: string;
  bytes: number;
}

/**
 * Starts `fetch(path, init)` in the app's frame, reading the body as it comes
 * (`window.inFlight.got`); `uploadBytes`: POSTs that many bytes as a Blob.
 */
function startExchange(frame: AnyFrame, path: string, uploadBytes = 0): Promise<void> {
  return inPage(
    frame,
    ({ path, uploadBytes }) => {
      const w = window as unknown as { inFlight: { got: number; outcome?: Outcome } };
      w.inFlight = { got: 0 };
      const init: RequestInit = uploadBytes > 0 ? { method: 'POST', body: new Blob([new Uint8Array(uploadBytes)]) } : {};
      void (async () => {
        try {
          const r = await fetch(path, init);
          const chunks: Uint8Array[] = [];
          const reader = r.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            chunks.push(value);
            w.inFlight.got += value.length;
          }
          const all = new Uint8Array(w.inFlight.got);
          let at = 0;
          for (const c of chunks) all.set(c, (at += c.length) - c.length);
          const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
          w.inFlight.outcome = {
            status: r.status,
            route: r.headers.get('x-wingman-route'),
            error: r.headers.get('x-wingman-error'),
            sha: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
            bytes: all.length,
          };
        } catch (e) {
          w.inFlight.outcome = { error: String(e), bytes: w.inFlight.got };
        }
      })();
    },
    { path, uploadBytes },
  );
}

const inFlight = (frame: AnyFrame) => inPage(frame, () => (window as unknown as { inFlight: { got: number; outcome?: Outcome } }).inFlight, undefined);

describe.each(WEBRTC_ENGINES)('the P2P host process killed with exchanges in flight, in %s', (engine) => {
  let stack: Stack;
  let browser: LaunchedEngine;
  let page: AnyPage;

  beforeAll(async () => {
    [stack, browser] = await startStackWith(() => launchEngine(engine));
    page = browser.page;
  });

  afterEach(async () => {
    // Path figures start afresh: the upload below takes the bulk path, P2P until the relay is measured.
    await unregisterServiceWorkers(page).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** Opens the app over P2P served by a live host; resolves with the frame, the shell's viewer id and that host's pid. */
  async function onP2P(): Promise<{ frame: AnyFrame; viewerId: string | undefined; host: number }> {
    const frame = await openShell<AnyFrame>(page, `${stack.origin}/one`, 'one');
    const { viewerId } = await waitForTransport(page, 'p2p');
    return { frame, viewerId, host: await p2pHostOf(stack.agent, viewerId) };
  }

  /** Kills the host and resolves with the exchange's outcome. */
  async function killHost(frame: AnyFrame, host: number): Promise<Outcome> {
    process.kill(host, 'SIGKILL');
    let last: unknown;
    return until(
      async () => {
        last = await inFlight(frame);
        return (last as { outcome?: Outcome }).outcome;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: "the exchange to end or move after the host's death", observe: () => last },
    );
  }

  /** The shell's record of why its channel ended: the host's death as the agent said it, not a heartbeat's silence. */
  async function expectEndedByAgentsWord(): Promise<void> {
    const errors = await inPage(
      page,
      () => (window as unknown as { __wingman: { errors(): Array<{ at: string; code: string; message: string }> } }).__wingman.errors(),
      undefined,
    );
    const ends = errors.filter((e) => e.code === 'channel-closed' || e.code === 'channel-unresponsive');
    expect({ first: ends[0], errors }).toMatchObject({
      first: { code: 'channel-closed', message: expect.stringContaining('P2P host ended (SIGKILL)') as string },
    });
  }

  it('resumes a download the host was carrying over the relay with a Range request, SHA-256 equal, then goes back to P2P', async () => {
    const { frame, viewerId, host } = await onP2P();
    await settleBulkFigures(frame);
    const n = 8 * MiB;
    // The app sends half the body, then nothing more: only a resumption gets the rest.
    await startExchange(frame, `/ranged?n=${n}&stall=${n / 2}`);
    await until(async () => (await inFlight(frame)).got >= n / 2, { timeoutMs: WAIT_MS, what: 'the first half of the body over P2P' });

    const outcome = await killHost(frame, host);

    expect(outcome).toEqual({ status: 200, route: expect.stringMatching(/^p2p;/), error: null, sha: patternSha256(n), bytes: n });
    const ranges = stack.app.requests.filter((r) => r.path.startsWith('/ranged')).map((r) => r.range);
    expect(ranges).toEqual([undefined, `bytes=${n / 2}-`]);
    await expectEndedByAgentsWord();

    // The restarted host takes the page back: the badge says P2P over a new channel, and the next request goes there.
    const back = await waitForTransport(page, 'p2p');
    expect(back.viewerId).not.toBe(viewerId);
    expect((await fetchInApp(frame, '/api/hello?after-restart')).transport).toBe('p2p');
  });

  it('fails an upload the app had begun to receive with a 502 saying so, and the app does not get it again', async () => {
    const held = stack.app.hold('/sha', WAIT_MS, 'POST');
    try {
      const { frame, host } = await onP2P();
      await startExchange(frame, '/sha', 8 * MiB);
      await held.reached;

      const outcome = await killHost(frame, host);

      expect(outcome).toMatchObject({ status: 502, route: 'relay; reason=channel-failed', error: 'ERR_ALREADY_RECEIVED' });
      expect(stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/sha')).toHaveLength(1);
      await expectEndedByAgentsWord();
    } finally {
      held.release();
    }
  });
});
