/**
 * TURN credentials per holder: each viewer's signaling hello carries its own
 * (its viewer id in the username), the agent's are its own, and the agent
 * gets fresh ones before a viewer's offer once its credentials are half
 * their lifetime old. Real server and signaling sockets on loopback; no TURN
 * server is needed to read the credentials.
 */
import { SIGNAL_PATH, parseServerMessage, type ServerToAgentReceived } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { createHmac } from 'node:crypto';
import { createFixture } from './helpers/fixture-handler';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';
import { closeAllViewers, openWs } from './helpers/viewer-client';
import { until, waitForEntry } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

const TURN_SECRET = 'turn-secret-for-tests';
const TTL_S = 60;

let server: TunnelServer;
let agent: TestAgent;
/** Control messages the agent received after `registered`. */
let controls: ServerToAgentReceived[];

beforeEach(async () => {
  server = await createTunnelServer({
    port: 0,
    tokens: [TEST_TOKEN],
    logLevel: 'silent',
    p2p: { turnUrls: ['turn:127.0.0.1:3478?transport=udp'], turnSecret: TURN_SECRET, turnTtlS: TTL_S },
  });
  agent = await connectTestAgent(server.port, createFixture().handler, { p2p: true });
  controls = [];
  agent.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary) controls.push(parseServerMessage(data.toString()));
  });
});

afterEach(async () => {
  jest.restoreAllMocks();
  closeAllViewers();
  closeAllAgents();
  await server?.close();
});

interface Hello {
  viewerId: string;
  p2p: { iceServers: Array<{ urls: string[]; username?: string; credential?: string }> };
}

async function signal(from: string) {
  const o = await openWs(server.port, agent.host, SIGNAL_PATH, from);
  if (o.kind !== 'open') throw new Error(`signaling refused: ${o.status}`);
  await waitForEntry(o.messages, o.ws, 'message', { timeoutMs: 5_000, what: 'the hello' });
  return { ws: o.ws, hello: JSON.parse(o.messages[0]!) as Hello };
}

const turnOf = (servers: Hello['p2p']['iceServers']) => servers.find((s) => s.urls[0]!.startsWith('turn:'))!;
const validCredential = (s: { username?: string; credential?: string }) =>
  s.credential === createHmac('sha1', TURN_SECRET).update(s.username!).digest('base64');

describe('TURN credentials', () => {
  it('mints them per viewer and for the agent, each naming its holder, valid for TURN_TTL_S', async () => {
    const a = await signal('127.0.0.2');
    const b = await signal('127.0.0.3');
    const ta = turnOf(a.hello.p2p.iceServers);
    const tb = turnOf(b.hello.p2p.iceServers);
    expect(ta.username).toMatch(new RegExp(`^\\d+:${agent.sessionId}\\.${a.hello.viewerId}$`));
    expect(tb.username).toMatch(new RegExp(`^\\d+:${agent.sessionId}\\.${b.hello.viewerId}$`));
    expect(ta.credential).not.toBe(tb.credential);
    expect(validCredential(ta) && validCredential(tb)).toBe(true);
    const expiry = Number(ta.username!.split(':')[0]);
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + TTL_S - 5);
    expect(expiry).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + TTL_S);
    const own = turnOf(agent.registered.p2p.iceServers);
    expect(own.username).toMatch(new RegExp(`^\\d+:${agent.sessionId}\\.agent$`));
  });

  it("renews the agent's before a viewer's offer once they are half their lifetime old", async () => {
    const v = await signal('127.0.0.2');
    v.ws.send(JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' }));
    await until(() => controls.some((m) => m.type === 'signal') || undefined, { timeoutMs: 5_000, what: 'the first offer at the agent' });
    expect(controls.filter((m) => m.type === 'ice-servers')).toEqual([]);

    // The server's clock moves past half the lifetime (the server runs in this process).
    const later = Date.now() + (TTL_S / 2 + 1) * 1000;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    v.ws.send(JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' }));
    await until(() => controls.filter((m) => m.type === 'signal').length >= 2 || undefined, { timeoutMs: 5_000, what: 'the second offer at the agent' });
    const kinds = controls.map((m) => m.type);
    expect(kinds.indexOf('ice-servers')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('ice-servers')).toBeLessThan(kinds.lastIndexOf('signal'));
    const renewed = controls.find((m) => m.type === 'ice-servers');
    if (renewed?.type !== 'ice-servers') throw new Error('no ice-servers message');
    const fresh = turnOf(renewed.iceServers);
    expect(fresh.username).toBe(`${Math.floor(later / 1000) + TTL_S}:${agent.sessionId}.agent`);
    expect(validCredential(fresh)).toBe(true);
  });
});
