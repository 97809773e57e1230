/**
 * What `wingman http`'s banner says about the path viewers take, against the
 * real tunnel server (built bins, loopback): peer-to-peer is promised only
 * where browsers can have it. A plain-http link on a public name gives the
 * browser no Service Worker, so its viewers stay on the relay; *.localhost
 * over http is a secure context and goes P2P.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { AGENT_BIN, killAll, startProcess, startServer } from '../helpers/processes';

jest.setTimeout(60_000);

let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

/** The agent's human banner (no --json) once it printed "Ctrl+C to stop.". */
async function bannerOf(serverUrl: string): Promise<string> {
  const agent = startProcess(AGENT_BIN, ['http', String(app.port), '--server', serverUrl, '--inspect', 'false', '--no-qr', '--new-session']);
  await agent.waitForLine(/Ctrl\+C to stop\./, { stream: 'stdout', timeoutMs: 20_000 });
  return agent.stdoutLines().join('\n');
}

describe("the agent's banner", () => {
  it('says relay, and why, for a plain-http link on a public name', async () => {
    const { port } = await startServer({ WINGMAN_DOMAIN_PUBLIC_SUFFIX: '1' }, ['--public-url', 'http://tunnel.wingman.test']);
    const banner = await bannerOf(`http://127.0.0.1:${port}`);
    expect(banner).toMatch(/http:\/\/[a-z2-7]{26}\.tunnel\.wingman\.test\//);
    expect(banner).not.toContain('peer-to-peer when possible');
    expect(banner).toContain(`forwarding to http://localhost:${app.port} (relay: browsers go peer-to-peer on https:// links (or *.localhost) only)`);
  });

  it('promises peer-to-peer for an http link on *.localhost', async () => {
    const { url } = await startServer();
    const banner = await bannerOf(url);
    expect(banner).toMatch(/http:\/\/[a-z2-7]{26}\.localhost:\d+\//);
    expect(banner).toContain(`forwarding to http://localhost:${app.port} (peer-to-peer when possible, relay otherwise)`);
  });
});
