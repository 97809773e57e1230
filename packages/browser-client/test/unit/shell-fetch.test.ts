/**
 * The Service Worker's wait for a shell to accept a request, over a real
 * MessageChannel (Node's global one, the browser's semantics): a silent
 * shell loses the request to the relay after SHELL_ACCEPT_TIMEOUT_MS unless
 * it is the requester's own shell (same main thread) and its window is still
 * there, which keeps it while the thread is busy.
 */
import { SHELL_ACCEPT_TIMEOUT_MS } from '../../src/shared/constants';
import { fetchViaShell, type ShellOutcome } from '../../src/sw/shell-fetch';

jest.setTimeout(20_000);

const HEAD = { method: 'POST', target: '/upload', headers: [] as Array<[string, string]> };
/** When the busy shell answers: past the first accept timeout. */
const LATE_ACCEPT_MS = SHELL_ACCEPT_TIMEOUT_MS + 1_000;

interface FakeShell {
  /** The exchange's port as the shell got it (once the SW posted). */
  port: Promise<MessagePort>;
  /** Bytes of request body the shell received. */
  received: () => number;
}

/** A shell that does nothing until told: `acceptAfterMs` accepts then, reads the body and answers 200. */
function fakeShell(acceptAfterMs?: number): { target: { id: string; post(m: unknown, t: Transferable[]): void }; shell: FakeShell } {
  let gotPort!: (p: MessagePort) => void;
  const port = new Promise<MessagePort>((r) => (gotPort = r));
  let received = 0;
  const target = {
    id: 'shell-window',
    post(_m: unknown, transfer: Transferable[]) {
      const p = transfer[0] as MessagePort;
      gotPort(p);
      if (acceptAfterMs === undefined) return;
      p.onmessage = (ev: MessageEvent) => {
        const m = ev.data as { t: string; chunk?: ArrayBuffer };
        if (m.t === 'data') received += m.chunk!.byteLength;
        if (m.t === 'end') {
          p.postMessage({ t: 'head', status: 200, headers: [] });
          p.postMessage({ t: 'end' });
        }
      };
      setTimeout(() => p.postMessage({ t: 'accept' }), acceptAfterMs);
    },
  };
  return { target, shell: { port, received: () => received } };
}

function body(bytes: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(new Uint8Array(bytes));
      c.close();
    },
  });
}

async function run(opts: { ownTab: boolean; windowThere: boolean; acceptAfterMs?: number }): Promise<{ outcome: ShellOutcome; shell: FakeShell }> {
  const { target, shell } = fakeShell(opts.acceptAfterMs);
  const outcome = await fetchViaShell({
    shell: { ...target, ownTab: opts.ownTab, turn: false, shellId: 's1' },
    head: HEAD,
    body: body(100_000),
    signal: new AbortController().signal,
    stillThere: () => Promise.resolve(opts.windowThere),
  });
  if (outcome.kind === 'response') await new Response(outcome.body).arrayBuffer();
  (await shell.port).close();
  return { outcome, shell };
}

describe('waiting for a shell to accept a request', () => {
  it('keeps the request for its own busy shell whose window exists, and sends the body once it accepts', async () => {
    const { outcome, shell } = await run({ ownTab: true, windowThere: true, acceptAfterMs: LATE_ACCEPT_MS });
    expect(outcome.kind).toBe('response');
    expect(shell.received()).toBe(100_000);
  });

  it("gives another tab's silent shell the same accept timeout as before, leaving the body unread for the relay", async () => {
    const { outcome, shell } = await run({ ownTab: false, windowThere: true, acceptAfterMs: LATE_ACCEPT_MS });
    expect(outcome).toMatchObject({ kind: 'declined', reason: expect.stringMatching(/did not answer within/) });
    expect(shell.received()).toBe(0);
  });

  it('does not wait for its own shell once that window is gone', async () => {
    const { outcome, shell } = await run({ ownTab: true, windowThere: false, acceptAfterMs: LATE_ACCEPT_MS });
    expect(outcome).toMatchObject({ kind: 'declined', reason: 'the page carrying the channel went away' });
    expect(shell.received()).toBe(0);
  });

  it('declines at once when the shell announces its channel gone before accepting (a reloaded page), the body unread', async () => {
    const { target, shell } = fakeShell();
    const gone = new AbortController();
    const started = Date.now();
    const pending = fetchViaShell({
      shell: { ...target, channelGone: gone.signal, ownTab: false, turn: false, shellId: 's1' },
      head: HEAD,
      body: body(100_000),
      signal: new AbortController().signal,
      stillThere: () => Promise.resolve(true),
    });
    await shell.port;
    gone.abort();
    const outcome = await pending;
    expect(outcome).toMatchObject({ kind: 'declined', reason: 'the page carrying the channel lost it or is leaving' });
    // Not the accept timeout: the channel's end decided.
    expect(Date.now() - started).toBeLessThan(SHELL_ACCEPT_TIMEOUT_MS);
    expect(shell.received()).toBe(0);
    (await shell.port).close();
  });

  it('does not hand a request to a shell whose channel is already gone', async () => {
    const { target, shell } = fakeShell(0);
    const gone = new AbortController();
    gone.abort();
    const outcome = await fetchViaShell({
      shell: { ...target, channelGone: gone.signal, ownTab: true, turn: false, shellId: 's1' },
      head: HEAD,
      body: null,
      signal: new AbortController().signal,
      stillThere: () => Promise.resolve(true),
    });
    expect(outcome.kind).toBe('declined');
    expect(shell.received()).toBe(0);
  });
});
