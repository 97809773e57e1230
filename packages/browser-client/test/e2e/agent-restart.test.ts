/**
 * The developer stops `wingman http` and starts it again: the restarted
 * agent gets the same URL back (its resume secret), and the reviewer's open
 * page must go back to P2P by itself, without a reload, while its badge says
 * what is going on meanwhile (the relay, because the agent is away), never
 * that P2P was turned off. Started again with `--no-p2p`, the same page's
 * badge does say that P2P is off, and its requests take the relay. In
 * Chromium and Firefox, real processes; what is checked is the badge's text
 * as the reviewer reads it.
 */
import { startAgent, type Proc } from '../../../../test/helpers/processes';
import { WEBRTC_ENGINES } from './helpers/engines';
import { useStackAndEngine } from './support/engine-stack';
import { badgeText, fetchInApp, inPage, openShell, shellStatus, waitForTransport, watchBadge, WAIT_MS, type AnyFrame, type ShellStatus } from './support/shell';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(120_000);

describe.each(WEBRTC_ENGINES)('an agent restarted on the same URL, seen from an open page in %s', (engine) => {
  const env = useStackAndEngine(engine);
  /** The agent serving the session now (the stack's, until a test restarts it). */
  let agent: Proc | undefined;

  /** Stops the agent serving the session and starts another on the same URL, with `args`. */
  async function restartAgent(args: string[] = []): Promise<void> {
    const { stack } = env;
    await (agent ?? stack.agent).kill('SIGTERM');
    const restarted = await startAgent(`http://localhost:${stack.serverPort}`, String(stack.app.port), {}, args);
    expect(restarted.sessionId).toBe(stack.sessionId);
    agent = restarted.agent;
  }

  it('takes the page back to P2P without a reload, the badge saying the agent was away, not that P2P was turned off', async () => {
    const { page, stack } = env;
    const frame = await openShell<AnyFrame>(page, `${stack.origin}/one`, 'one');
    const first = await waitForTransport(page, 'p2p');
    const marker = await inPage(frame, () => ((window as unknown as { marker: number }).marker = Math.random()), undefined);

    await (agent ?? stack.agent).kill('SIGTERM');
    // The page's first attempt while the agent is away ends with a verdict: what its badge says until the agent is back.
    let last: ShellStatus | undefined;
    const away = await until(
      async () => {
        last = await shellStatus(page);
        return last.transport === 'relay' && !/^channel closed/.test(last.reason ?? '') ? last : undefined;
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the page to try P2P again while the agent is away', observe: () => last },
    );
    expect(away.reason).toBe('agent offline');
    // The reviewer reads it (between two tries, or during one).
    expect(await badgeText(page)).toMatch(/^Relay · agent offline( · reconnecting)?$/);

    const restarted = await startAgent(`http://localhost:${stack.serverPort}`, String(stack.app.port));
    expect(restarted.sessionId).toBe(stack.sessionId);
    agent = restarted.agent;
    // Back on P2P over a new channel, the loss probe done: what waitForTransport waits for.
    const back = await waitForTransport(page, 'p2p');
    expect(back.viewerId).not.toBe(first.viewerId);
    // The badge says so, and the next request goes where it says.
    expect(await badgeText(page)).toMatch(/^P2P · unverified( · [\d.]+ ms)?$/);

    // The same document: no reload happened.
    expect(await inPage(frame, () => (window as unknown as { marker?: number }).marker, undefined)).toBe(marker);
    expect((await fetchInApp(frame, '/api/hello?after-restart')).transport).toBe('p2p');
  });

  it('says P2P is off, and sends requests over the relay, once the agent comes back with --no-p2p', async () => {
    const { page, stack } = env;
    const frame = await openShell<AnyFrame>(page, `${stack.origin}/one`, 'one');
    await waitForTransport(page, 'p2p');

    const badge = watchBadge(page, (t) => t === 'Relay · P2P disabled by server/agent');
    await restartAgent(['--no-p2p']);
    await badge.finished;
    // On its way there it never said P2P was off while the agent was only away.
    expect(badge.seen.slice(0, -1).filter((t) => /disabled/.test(t))).toEqual([]);

    const r = await fetchInApp(frame, '/api/hello?p2p-off');
    expect({ status: r.status, transport: r.transport }).toEqual({ status: 200, transport: 'relay' });
    expect(await shellStatus(page)).toMatchObject({ transport: 'relay', reason: 'P2P disabled by server/agent' });
  });
});
