/**
 * The Node P2P viewer (relay-server/src/viewer/p2p-viewer.ts: `wingman
 * fetch`, benchmarks) hears `bye` on signaling after it connected, and does
 * what the browser shell does (protocol peer-gone.ts): it asks its channel.
 * The tunnel server says bye when the agent's link to it drops, and the
 * channel outlives that link: the viewer keeps serving over P2P. The agent
 * says it when its P2P host process died: the viewer's peer connection
 * ends within the check, not when ICE notices 30 s on. Real server,
 * agent and viewer processes (the viewer in a child process of its own:
 * test/helpers/p2p-viewer-process.ts); the agent's link goes through a TCP
 * relay of the test's, which cuts it.
 */
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { GONE_CHECK_TIMEOUT_MS } from '@wingman/protocol';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { closeViewersAndProcesses, connectViewerProcess } from '../helpers/p2p-viewer-process';
import { childPids, startAgent, startServer, startTunnel } from '../helpers/processes';
import { expectUnchangedWithin } from '../helpers/wait';

jest.setTimeout(60_000);

/** How soon after the host's death every peer connection of the viewer must have ended: the check, and room for a loaded machine. */
const PROMPT_MS = GONE_CHECK_TIMEOUT_MS + 4_000;

/** A TCP relay to 127.0.0.1:`port` whose connections `cut()` ends (a network path that drops). */
async function startCuttableRelay(port: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((inbound) => {
    const outbound = connect(port, '127.0.0.1');
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let app: FixtureApp;

beforeEach(async () => {
  app = await startFixtureApp();
});

afterEach(() => closeViewersAndProcesses(app));

describe("the Node P2P viewer and signaling's bye", () => {
  it("keeps serving over P2P when the server says bye because the agent's link dropped: its channel still answers", async () => {
    const { server, port } = await startServer();
    const relay = await startCuttableRelay(port);
    try {
      const { agent, url } = await startAgent(`http://localhost:${relay.port}`, String(app.port));
      const host = new URL(url).host;
      const viewer = await connectViewerProcess({ url, timeoutMs: 20_000 });
      const get = async (target: string) => {
        const r = await viewer.request({ method: 'GET', target, headers: [['host', host]] });
        return `${r.status} ${r.header('x-wingman-transport')} ${r.body.toString()}`;
      };
      expect(await get('/hello?before')).toBe('200 p2p hello GET');

      const readies = agent.events.filter((e) => e.event === 'ready').length;
      relay.cut();
      // The server told its viewers bye as the link closed; the agent is back on the same session afterwards.
      const back = await agent.waitFor((e) => e.event === 'ready' && agent.events.filter((x) => x.event === 'ready').length > readies, 30_000);
      expect(back).toMatchObject({ url, resumed: true });
      expect(server.child.exitCode).toBeNull();

      // Through the viewer's check of its channel (a PING's round trip, at most GONE_CHECK_TIMEOUT_MS): the channel stays the viewer's.
      await expectUnchangedWithin(() => viewer.closeOf(0) ?? 'open', { windowMs: GONE_CHECK_TIMEOUT_MS, what: "the viewer's first connection" });
      expect(await get('/hello?after')).toBe('200 p2p hello GET');
      expect(viewer.closeOf(0)).toBeUndefined();
      expect((await viewer.state()).connection.isClosed).toBe(false);
    } finally {
      await relay.close();
    }
  });

  it('ends its peer connection promptly when the agent says bye because its P2P host died', async () => {
    const t = await startTunnel(String(app.port));
    const viewer = await connectViewerProcess({ url: t.url, timeoutMs: 20_000 });
    // The process serving this viewer, as the agent names it.
    const connected = await t.agent.waitFor((e) => e.event === 'peer' && e.state === 'connected' && e.viewerId === viewer.viewerId);
    expect(childPids(t.agent.child.pid!)).toContain(connected.hostPid);

    process.kill(connected.hostPid as number, 'SIGKILL');

    await viewer.waitForClose(0, PROMPT_MS);
    expect((await viewer.state()).connection.isClosed).toBe(true);
  });
});
