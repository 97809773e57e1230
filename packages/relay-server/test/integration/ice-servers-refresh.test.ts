/**
 * The agent takes fresh ICE servers from the tunnel server's `ice-servers`
 * control message for the peers it opens next: the real `wingman http`
 * process (its P2P host process included) against a stand-in tunnel server,
 * a real viewer offer from @roamhq/wrtc (in a child process,
 * helpers/peer-fixture.ts), and a UDP socket on loopback where the new TURN
 * server is said to be, which sees the agent's first request to it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeTunnelServer, type FakeTunnelServer } from './helpers/fake-tunnel-server';
import { startLocalApp, type LocalApp } from './helpers/local-app';
import { PeerFixture } from './helpers/peer-fixture';
import { killAll, startAgent } from '../../../../test/helpers/processes';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let fake: FakeTunnelServer;
let app: LocalApp;
let turn: Socket;
let fixture: PeerFixture;
let stateDir: string;

beforeEach(async () => {
  fake = await startFakeTunnelServer();
  app = await startLocalApp();
  turn = createSocket('udp4');
  await new Promise<void>((resolve) => turn.bind(0, '127.0.0.1', resolve));
  stateDir = mkdtempSync(join(tmpdir(), 'wingman-ice-refresh-'));
  fixture = await PeerFixture.start();
});

afterEach(async () => {
  await killAll();
  turn.close();
  await app.close();
  await fake.close();
  rmSync(stateDir, { recursive: true, force: true });
  // Last: it throws when the viewer's process died during the test.
  await fixture.close();
});

it('uses the TURN server of an ice-servers message for the next viewer it answers', async () => {
  await startAgent(fake.url, String(app.port), { WINGMAN_STATE_DIR: stateDir }, ['--token', 'test-token-123', '--inspect', 'false']);
  const socket = fake.socket()!;
  socket.send(
    JSON.stringify({
      type: 'ice-servers',
      iceServers: [{ urls: [`turn:127.0.0.1:${turn.address().port}?transport=udp`], username: '4102444800:session.agent', credential: 'not-checked-here' }],
    }),
  );
  const viewer = await fixture.newPc();
  await viewer.createDataChannel('wingman');
  await viewer.setLocalDescription(await viewer.createOffer());
  socket.send(JSON.stringify({ type: 'signal', viewerId: '0123456789abcdef', message: { type: 'offer', sdp: (await viewer.localDescription()).sdp } }));
  // The agent gathers for this viewer with the new server: its first request (a STUN Binding, as WebRTC also uses a TURN server for STUN, or a TURN Allocate) arrives here.
  const [packet] = await waitForEvent<[Buffer]>(turn, 'message', { timeoutMs: 10_000, what: "the agent's STUN/TURN request" });
  expect([0x0001, 0x0003]).toContain(packet.readUInt16BE(0));
  // The STUN magic cookie (RFC 5389 §6): it is a STUN/TURN message, not stray traffic.
  expect(packet.readUInt32BE(4)).toBe(0x2112a442);
});
