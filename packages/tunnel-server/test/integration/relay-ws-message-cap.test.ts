/**
 * The tunnel server's cap on relayed WebSocket messages, against a raw test
 * agent (so the server's own checks are what is tested): a viewer's message
 * over it and an agent's message over it each close only their WebSocket,
 * with 1009 towards the viewer and WS_CLOSE 1009 or RESET towards the agent.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Stream } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

/** A small cap keeps the test cheap; the default (1 MiB) is covered end to end in test/integration/ws-message-cap.test.ts. */
const CAP = 64 * 1024;

let server: TunnelServer;
let agent: TestAgent;
/** What the agent saw close, by target: WS_CLOSE code or RESET code. */
const agentSaw = new Map<string, string>();
/** Emits 'saw' (target) as each entry of agentSaw is set. */
const agentEvents = new EventEmitter();
const saw = (target: string, what: string) => (agentSaw.set(target, what), agentEvents.emit('saw', target));
const viewers = new Set<WebSocket>();

/** /echo echoes; /flood sends one message of CAP + 1 bytes as soon as it is open. */
function app(stream: Stream): void {
  const target = stream.head.target;
  stream.respond({ status: 101, headers: [] });
  stream.on('message', (data, text) => stream.sendMessage(text ? new TextDecoder().decode(data) : data));
  stream.on('wsClose', (code, reason) => {
    saw(target, `close ${code} ${reason}`);
    stream.closeWs(code, reason);
  });
  stream.on('reset', (e) => saw(target, `reset ${e.code}`));
  if (target === '/flood') stream.sendMessage(new Uint8Array(CAP + 1));
}

beforeEach(async () => {
  agentSaw.clear();
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent', wsMaxMessageBytes: CAP });
  agent = await connectTestAgent(server.port, app);
});

afterEach(async () => {
  for (const ws of viewers) ws.terminate();
  viewers.clear();
  closeAllAgents();
  await server.close();
});

/** Opens a viewer WebSocket; its close (code, reason) is recorded from the start. */
async function viewer(path: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers: { host: agent.host } });
  viewers.add(ws);
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason: Buffer) => r({ code, reason: reason.toString() })));
  await new Promise((r, j) => (ws.once('open', r), ws.once('unexpected-response', () => j(new Error('refused')))));
  return { ws, closed };
}

function echo(ws: WebSocket, text: string): Promise<string> {
  const echoed = waitForEvent<[Buffer, boolean]>(ws, 'message', { timeoutMs: 5_000, what: 'the echo' });
  ws.send(text);
  return echoed.then(([data]) => data.toString());
}

/** What the agent saw end the stream for `target`, once it saw it. */
async function eventuallyAgentSaw(target: string): Promise<string | undefined> {
  if (!agentSaw.has(target))
    await waitForEvent(agentEvents, 'saw', { filter: (t: string) => t === target, timeoutMs: 2_000, what: `the agent to see the end of ${target}` });
  return agentSaw.get(target);
}

describe('tunnel server WebSocket message cap', () => {
  it('passes a message of exactly the cap', async () => {
    const { ws } = await viewer('/echo');
    expect((await echo(ws, 'x'.repeat(CAP))).length).toBe(CAP);
  });

  it('closes a viewer sending one byte over the cap with 1009 and its reason, tells the agent with WS_CLOSE 1009, and leaves another WebSocket working', async () => {
    const other = await viewer('/other');
    const { ws, closed } = await viewer('/echo');
    ws.send(Buffer.alloc(CAP + 1));
    expect(await closed).toEqual({ code: 1009, reason: `message over the ${CAP}-byte limit` });
    expect(await eventuallyAgentSaw('/echo')).toBe(`close 1009 message over the ${CAP}-byte limit`);
    expect(await echo(other.ws, 'still here')).toBe('still here');
  });

  it('closes the viewer with 1009 when the agent sends a message over the cap, resetting only that stream', async () => {
    const other = await viewer('/other');
    const { closed } = await viewer('/flood');
    expect(await closed).toEqual({ code: 1009, reason: `message over the ${CAP}-byte limit` });
    expect(await eventuallyAgentSaw('/flood')).toBe('reset ERR_MESSAGE_TOO_LARGE');
    expect(await echo(other.ws, 'after')).toBe('after');
  });
});
