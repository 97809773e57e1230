/**
 * A P2P host process whose viewer has left becomes the agent's spare, warm, in place of the new one
 * (relay-server/src/p2p/spare-host.ts recycle): RETIRE_AFTER_MS after the viewer's peer closed the new
 * spare ends, and the next viewer is served by the process the first one had, over P2P. Real agent,
 * real host processes, real wrtc viewers in child processes, real app; loopback only.
 */
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewersAndProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { childPids, p2pHostOf, startTunnel, type Tunnel } from '../helpers/processes';
import { until } from '../helpers/wait';
import { RETIRE_AFTER_MS } from '../../packages/relay-server/src/p2p/per-viewer-hosts';

jest.setTimeout(60_000);

let app: FixtureApp;
let t: Tunnel;

beforeEach(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(() => closeViewersAndProcesses(app));

describe('a host process whose viewer left', () => {
  it('is the spare the next viewer gets, and the spare started meanwhile ends', async () => {
    const agentPid = t.agent.child.pid!;
    const first = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    expect((await first.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] })).header('x-wingman-transport')).toBe('p2p');
    const host = await p2pHostOf(t.agent, first.viewerId);
    const fresh = await until(() => childPids(agentPid).find((pid) => pid !== host), {
      timeoutMs: 15_000,
      what: 'the spare started after the first viewer took its process',
      observe: () => childPids(agentPid),
    });

    await first.leave();
    await t.agent.waitFor((e) => e.event === 'peer' && e.state !== 'connected' && e.viewerId === first.viewerId, 15_000, 'the first peer closed');
    await until(() => !childPids(agentPid).includes(fresh), {
      timeoutMs: RETIRE_AFTER_MS + 15_000,
      what: `the new spare ${fresh} to end, ${RETIRE_AFTER_MS} ms after the first peer closed`,
      observe: () => childPids(agentPid),
    });
    expect(childPids(agentPid)).toEqual([host]);

    const second = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    const r = await second.request({ method: 'GET', target: '/hello', headers: [['host', t.host]] });
    expect({ status: r.status, body: r.body.toString(), transport: r.header('x-wingman-transport') }).toEqual({
      status: 200,
      body: 'hello GET',
      transport: 'p2p',
    });
    expect(await p2pHostOf(t.agent, second.viewerId)).toBe(host);
  });
});
