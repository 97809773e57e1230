/**
 * A resumed URL whose access changes (an agent restarted within the grace
 * period with other flags) starts over with its viewers, through the real
 * tunnel server and agent: a browser let in while the link was open waits
 * again when the agent comes back with --approve, and the agent says so
 * (its `--json` ready event, its banner).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { AGENT_BIN, killAll, startAgent, startProcess, startServer } from '../helpers/processes';
import { inspectorApi, inspectorPortOf, newViewer, untilTrue } from '../helpers/viewer-client';

jest.setTimeout(60_000);

let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(async () => {
  await killAll();
  await app.close();
});

describe('a change of access on a resumed URL', () => {
  it('makes a viewer admitted under the open link wait again once the agent comes back with --approve', async () => {
    const { port, url } = await startServer();
    const open = await startAgent(url, String(app.port), {}, ['--new-session']);
    const host = new URL(open.url).host;
    const viewer = await newViewer(port, host);
    expect((await viewer.get('/hello')).status).toBe(200);

    // A crash, then a restart with --approve within the grace period: the same URL.
    await open.agent.kill('SIGKILL');
    const approving = await startAgent(url, String(app.port), {}, ['--approve', '--inspect', 'false']);
    expect(approving.url).toBe(open.url);
    expect(approving.agent.events.find((e) => e.event === 'ready')).toMatchObject({
      resumed: true,
      viewers: 'approve',
      viewersReset: { from: 'link', to: 'approve' },
    });

    const after = await viewer.get('/hello');
    expect(after.status).toBe(403);
    expect(JSON.parse(after.body.toString())).toMatchObject({ error: 'ERR_VIEWER_WAITING', viewer: viewer.id });
    await untilTrue('the agent told of the waiting viewer', () =>
      approving.agent.events.some((e) => e.event === 'viewer' && e.id === viewer.id && e.state === 'waiting'),
    );
  });

  it('keeps an admitted viewer admitted when the agent comes back with the same access (--approve)', async () => {
    const { port, url } = await startServer();
    const first = await startAgent(url, String(app.port), {}, ['--new-session', '--approve', '--inspect', '0']);
    const viewer = await newViewer(port, new URL(first.url).host);
    expect((await inspectorApi(inspectorPortOf(first.agent), `/api/viewers/${viewer.id}/admit`, 'POST')).status).toBe(202);
    await untilTrue('the admission', async () => (await viewer.get('/hello')).status === 200);
    await first.agent.kill('SIGKILL');
    const again = await startAgent(url, String(app.port), {}, ['--approve', '--inspect', 'false']);
    expect(again.url).toBe(first.url);
    expect(again.agent.events.find((e) => e.event === 'ready')).not.toHaveProperty('viewersReset');
    expect((await viewer.get('/hello')).status).toBe(200);
  });

  it("says in the agent's banner that the viewers start over when a password replaces the open link", async () => {
    const { url } = await startServer();
    const stateDir = join(tmpdir(), `wingman-access-banner-${process.pid}`);
    const human = (args: string[]) =>
      startProcess(AGENT_BIN, ['http', String(app.port), '--server', url, '--inspect', 'false', '--no-qr', ...args], { WINGMAN_STATE_DIR: stateDir });
    const open = human(['--new-session']);
    await open.waitForLine(/Ctrl\+C to stop\./, { stream: 'stdout', timeoutMs: 20_000 });
    const link = /https?:\/\/\S+/.exec(open.stdoutLines().join('\n'))![0];
    await open.kill('SIGKILL');

    const protectedRun = human(['--password', 'sesame']);
    await protectedRun.waitForLine(/Ctrl\+C to stop\./, { stream: 'stdout', timeoutMs: 20_000 });
    const banner = protectedRun.stdoutLines().join('\n');
    expect(banner).toContain(link);
    expect(banner).toContain("access changed since this link's last run (link → password): every viewer let in before must get in again");
  });
});
