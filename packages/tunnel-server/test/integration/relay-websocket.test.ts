/** WebSockets through a real tunnel server and a real test agent. */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { createFixture, type Fixture } from './helpers/fixture-handler';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, waitClosed, type TestAgent } from './helpers/test-agent';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

let server: TunnelServer;
let fixture: Fixture;
let agent: TestAgent;
const viewers = new Set<WebSocket>();

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent' });
  fixture = createFixture();
  agent = await connectTestAgent(server.port, fixture.handler);
});

afterEach(async () => {
  for (const ws of viewers) ws.terminate();
  viewers.clear();
  closeAllAgents();
  await server.close();
});

function viewer(path: string, host: string, protocols?: string[]): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols, { headers: { host } });
  viewers.add(ws);
  return ws;
}

function opened(ws: WebSocket): Promise<{ headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    let headers: Record<string, string | string[] | undefined> = {};
    ws.once('upgrade', (res) => (headers = res.headers));
    ws.once('open', () => resolve({ headers }));
    ws.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, headers: res.headers })),
    );
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return waitForEvent<[Buffer, boolean]>(ws, 'message', { timeoutMs: 5_000, what: 'a message' }).then(([data, binary]) => ({ data, binary }));
}

describe('WebSocket relay', () => {
  it('echoes text and binary messages, keeping their kind, with the chosen subprotocol', async () => {
    const ws = viewer('/chat?room=1', agent.host, ['chat.v2', 'chat.v1']);
    const { headers } = await opened(ws);
    expect(ws.protocol).toBe('chat.v2');
    expect(headers['x-app']).toBe('yes');
    expect(headers['x-wingman-transport']).toBe('relay');
    const head = fixture.heads[0]!;
    expect(head.target).toBe('/chat?room=1');
    const names = head.headers.map(([n]) => n);
    expect(names).not.toContain('sec-websocket-key');
    expect(names).not.toContain('upgrade');
    expect(names).toContain('sec-websocket-protocol');

    ws.send('hello over the tunnel');
    expect(await nextMessage(ws)).toEqual({ data: Buffer.from('hello over the tunnel'), binary: false });
    const big = randomBytes(1024 * 1024);
    ws.send(big);
    const reply = await nextMessage(ws);
    expect(reply.binary).toBe(true);
    expect(reply.data.equals(big)).toBe(true);
  });

  it('carries close codes from the app to the viewer', async () => {
    const ws = viewer('/ws', agent.host);
    await opened(ws);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.send('close-me');
    expect(await closed).toEqual({ code: 4001, reason: 'asked to close' });
  });

  it('carries the viewer close to the app', async () => {
    const ws = viewer('/ws', agent.host);
    await opened(ws);
    ws.close(4002, 'viewer done');
    expect(await waitClosed(ws)).toEqual({ code: 4002 });
  });

  it('passes a declined upgrade back as an HTTP response', async () => {
    const ws = viewer('/ws-refuse', agent.host);
    await expect(opened(ws)).rejects.toMatchObject({ status: 403, headers: expect.objectContaining({ 'x-refused': 'yes', 'x-wingman-transport': 'relay' }) });
  });

  it('answers 404 to an upgrade for an unknown session', async () => {
    const ws = viewer('/ws', `${'b'.repeat(26)}.localhost:${server.port}`);
    await expect(opened(ws)).rejects.toMatchObject({ status: 404 });
  });

  it('terminates the viewer socket when the agent goes away', async () => {
    const ws = viewer('/ws', agent.host);
    await opened(ws);
    await agent.close();
    const { code } = await waitClosed(ws);
    expect(code).toBe(1006);
  });

  it('resets the agent stream when the viewer vanishes', async () => {
    const ws = viewer('/ws', agent.host);
    await opened(ws);
    ws.terminate();
    const reset = await fixture.waitForReset('/ws');
    expect(reset.code).toBe('ERR_CANCEL');
  });
});
