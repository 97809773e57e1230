/**
 * A request whose data channel dies before its response is sent again over
 * the relay only when the app never saw it, whatever its method: the Service
 * Worker marks the P2P exchange of a request whose body it holds
 * (x-wingman-exchange), and sends it again with that mark; the agent
 * forwards it only if that exchange never began to reach the app, and
 * answers a 502 ERR_ALREADY_RECEIVED otherwise. A POST whose body had left
 * the page but never reached the app gets the app's answer, the app seeing
 * it once; a POST the app had received gets that error, and the app still
 * sees it once. Real app, real agent (its P2P host process), real Chromium.
 */
import { createHash } from 'node:crypto';
import { p2pHostOf } from '../../../../test/helpers/processes';
import { until } from '../../../../test/helpers/wait';
import { unregisterServiceWorkers } from './helpers/browser';
import { useStackAndEngine } from './support/engine-stack';
import { inPage, openShell, WAIT_MS, waitForTransport, type AnyFrame, type ShellStatus } from './support/shell';

jest.setTimeout(120_000);

/** The POST's body: small (it goes over P2P, and whole, with its length). */
const BODY = 'order=42&note=' + 'x'.repeat(4_000);
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

/** What the page's POST came to. */
interface Outcome {
  status?: number;
  route?: string | null;
  error?: string | null;
  text?: string;
  thrown?: string;
}

describe('a POST whose data channel dies before its answer', () => {
  const env = useStackAndEngine('Chromium');

  afterEach(() => unregisterServiceWorkers(env.page).catch(() => undefined));

  /** Opens the app over P2P; resolves with its frame and the pid of the P2P host process carrying the channel. */
  async function onP2P(): Promise<{ frame: AnyFrame; host: number }> {
    const frame = await openShell<AnyFrame>(env.page, `${env.stack.origin}/one`, 'one');
    const { viewerId } = await waitForTransport(env.page, 'p2p');
    return { frame, host: await p2pHostOf(env.stack.agent, viewerId) };
  }

  /** Starts the POST in the app's frame; the page's outcome is read with `outcome`. */
  const startPost = (frame: AnyFrame) =>
    inPage(
      frame,
      (body: string) => {
        (window as unknown as { post: Promise<Outcome> }).post = fetch('/sha', { method: 'POST', body }).then(
          async (r) => ({ status: r.status, route: r.headers.get('x-wingman-route'), error: r.headers.get('x-wingman-error'), text: await r.text() }),
          (e: unknown) => ({ thrown: String(e) }),
        );
      },
      BODY,
    );
  const outcome = (frame: AnyFrame) => inPage(frame, () => (window as unknown as { post: Promise<Outcome> }).post, undefined);
  const posts = () => env.stack.app.requests.filter((r) => r.method === 'POST' && r.path === '/sha');

  it('sends it again over the relay when the body left the page but never reached the app: the app sees it once, the page gets its answer', async () => {
    const { frame, host } = await onP2P();
    const before = posts().length;
    // The host process stops: what the channel carries from now on never reaches the app.
    process.kill(host, 'SIGSTOP');
    try {
      await startPost(frame);
      // The shell took the request: its head and body went onto the channel.
      await until(() => inPage(env.page, () => (window as unknown as { __wingman: { status(): ShellStatus } }).__wingman.status().activeRequests, undefined), {
        timeoutMs: WAIT_MS,
        what: 'the shell to carry the POST',
      });
    } finally {
      // The channel dies with the host, the POST's bytes unread.
      process.kill(host, 'SIGKILL');
    }

    const r = await outcome(frame);

    expect(r).toMatchObject({ status: 200, route: 'relay; reason=channel-failed', error: null });
    expect(JSON.parse(r.text!)).toEqual({ sha: BODY_SHA, length: BODY.length });
    expect(posts()).toHaveLength(before + 1);
  });

  it('answers a clear 502 when the app had received it: the app sees it once', async () => {
    const held = env.stack.app.hold('/sha', WAIT_MS, 'POST');
    try {
      const { frame } = await onP2P();
      const before = posts().length;
      await startPost(frame);
      await held.reached;
      expect(await inPage(env.page, () => (window as unknown as { __wingman: { dropChannel(): boolean } }).__wingman.dropChannel(), undefined)).toBe(true);

      const r = await outcome(frame);

      expect(r).toMatchObject({ status: 502, route: 'relay; reason=channel-failed', error: 'ERR_ALREADY_RECEIVED' });
      expect(r.text).toContain('The app received this request; it was not sent twice');
      expect(posts()).toHaveLength(before + 1);
    } finally {
      held.release();
    }
  });
});
