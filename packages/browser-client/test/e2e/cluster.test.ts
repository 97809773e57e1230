/**
 * A reviewer's browser that reaches another node of a cluster than the one
 * holding the session (REDIS_URL; docs/operations.md "Several nodes"): the
 * shell, the Service Worker's relay fetches and signaling all go through the
 * node it reached, forwarded to the session's node, and P2P comes up as on
 * a single node. Real redis-server, two tunnel-server nodes, agent, app.
 */
import { killAll, startAgent, startServer } from '../../../../test/helpers/processes';
import { startRedis, type RedisProcess } from '../../../../test/helpers/redis';
import { launchChromium, type LaunchedChromium } from './helpers/browser';
import { startApp, type FixtureApp } from './support/app';
import { fetchInApp, openShell, waitForTransport } from './support/shell';

jest.setTimeout(120_000);

describe('a session held by node A, opened in Chromium through node B', () => {
  let redis: RedisProcess;
  let app: FixtureApp;
  let browser: LaunchedChromium | undefined;

  beforeEach(async () => {
    redis = await startRedis();
    app = await startApp();
  });

  afterEach(async () => {
    if (browser) {
      await browser.close();
      browser = undefined;
    }
    await killAll();
    await app.close();
    await redis.stop();
  });

  async function twoNodes(agentArgs: string[]) {
    const a = await startServer({ REDIS_URL: redis.url });
    const b = await startServer({ REDIS_URL: redis.url });
    const { sessionId } = await startAgent(a.url, String(app.port), {}, ['--new-session', ...agentArgs]);
    return { viaB: `http://${sessionId}.localhost:${b.port}` };
  }

  it("loads the shell through B and moves the app's fetches to P2P", async () => {
    const { viaB } = await twoNodes([]);
    browser = await launchChromium();
    const frame = await openShell(browser.page, `${viaB}/one`, 'one');
    await waitForTransport(browser.page, 'p2p');
    const r = await fetchInApp(frame, '/api/hello?via=b');
    expect(r.transport).toBe('p2p');
    expect(JSON.parse(r.text)).toMatchObject({ hello: 'world', query: { via: 'b' } });
  });

  it('serves the app over the relay through B when the session is relay-only', async () => {
    const { viaB } = await twoNodes(['--no-p2p']);
    browser = await launchChromium();
    const res = await browser.page.goto(`${viaB}/api/hello?via=relay`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['x-wingman-transport']).toBe('relay');
    expect(JSON.parse(await res!.text())).toMatchObject({ hello: 'world', query: { via: 'relay' } });
  });
});
