/**
 * The developer stops `wingman http` and starts it again: the restarted
 * agent gets the same URL back (its resume secret), and the reviewer's open
 * page must go back to P2P by itself, without a reload, while its badge says
 * what is going on meanwhile (the relay, because the agent is away), never
 * that P2P was turned off. In Chromium and Firefox, real processes.
 */
import { startAgent } from '../../../../test/helpers/processes';
import { WEBRTC_ENGINES } from './helpers/engines';
import { useStackAndEngine } from './support/engine-stack';
import { fetchInApp, inPage, openShell, shellStatus, waitForTransport, WAIT_MS, type AnyFrame, type ShellStatus } from './support/shell';
import { until } from '../../../../test/helpers/wait';

jest.setTimeout(120_000);

describe.each(WEBRTC_ENGINES)('an agent restarted on the same URL, seen from an open page in %s', (engine) => {
  const env = useStackAndEngine(engine);

  it('takes the page back to P2P without a reload, the badge saying the agent was away, not that P2P was turned off', async () => {
    const { page, stack } = env;
    const frame = await openShell<AnyFrame>(page, `${stack.origin}/one`, 'one');
    const first = await waitForTransport(page, 'p2p');
    const marker = await inPage(frame, () => ((window as unknown as { marker: number }).marker = Math.random()), undefined);

    await stack.agent.kill('SIGTERM');
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

    const restarted = await startAgent(`http://localhost:${stack.serverPort}`, String(stack.app.port));
    expect(restarted.sessionId).toBe(stack.sessionId);
    // Back on P2P over a new channel, the loss probe done: what waitForTransport waits for.
    const back = await waitForTransport(page, 'p2p');
    expect(back.viewerId).not.toBe(first.viewerId);

    // The same document: no reload happened.
    expect(await inPage(frame, () => (window as unknown as { marker?: number }).marker, undefined)).toBe(marker);
    expect((await fetchInApp(frame, '/api/hello?after-restart')).transport).toBe('p2p');
  });
});
