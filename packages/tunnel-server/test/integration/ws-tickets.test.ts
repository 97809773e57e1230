/**
 * One-time WebSocket tickets through a real tunnel server and a real test
 * agent: minted at WS_TICKET_PATH, redeemed by the WebSocket relay, whose
 * cookies are merged into the upgrade the app sees (docs/browser-client.md
 * §Cookies, "WebSockets over the relay").
 */
import WebSocket from 'ws';
import { WS_TICKET_PARAM, WS_TICKET_PATH } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { DEFAULT_MAX_WS_TICKETS_PER_SESSION as MAX_WS_TICKETS_PER_HOST } from '../../src/limits';
import { createFixture, type Fixture } from './helpers/fixture-handler';
import { send } from './helpers/http-client';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';

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

async function mint(host: string, cookie: string): Promise<string> {
  const r = await send(server.port, host, {
    method: 'POST',
    path: WS_TICKET_PATH,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cookie }),
  });
  if (r.status !== 200) throw new Error(`mint answered ${r.status}: ${r.body.toString()}`);
  const body = JSON.parse(r.body.toString()) as { ticket: string; expiresInMs: number };
  expect(body.expiresInMs).toBe(10_000);
  return body.ticket;
}

/** Opens a viewer WebSocket; resolves on open, rejects with the status (and headers, body) of a refusal. */
function open(path: string, host: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers: { host, ...headers } });
  viewers.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body: Buffer.concat(parts).toString() })),
      );
    });
    ws.once('error', reject);
  });
}

const cookieOf = (i: number) => fixture.heads[i]!.headers.filter(([n]) => n === 'cookie').map(([, v]) => v);

describe('WebSocket tickets', () => {
  it("merges the ticket's cookies into the upgrade: the SW's win over same-named browser cookies, the parameter never reaches the app", async () => {
    const ticket = await mint(agent.host, 'sid=from-sw; other=1');
    await open(`/ws?a=b%20c&flag&${WS_TICKET_PARAM}=${ticket}`, agent.host, { cookie: 'theme=dark; sid=forged-by-script' });
    expect(fixture.heads).toHaveLength(1);
    expect(fixture.heads[0]!.target).toBe('/ws?a=b%20c&flag');
    expect(cookieOf(0)).toEqual(['sid=from-sw; other=1; theme=dark']);
  });

  it('refuses a second use of a ticket with 403 ERR_WS_TICKET, without bothering the agent', async () => {
    const ticket = await mint(agent.host, 'sid=1');
    await open(`/ws?${WS_TICKET_PARAM}=${ticket}`, agent.host);
    await expect(open(`/ws?${WS_TICKET_PARAM}=${ticket}`, agent.host)).rejects.toMatchObject({
      status: 403,
      headers: { 'x-wingman-error': 'ERR_WS_TICKET', 'x-wingman-transport': 'relay' },
      body: expect.stringContaining('unknown or already used'),
    });
    expect(fixture.heads).toHaveLength(1);
  });

  it('refuses an unknown ticket, and more than one ticket', async () => {
    await expect(open(`/ws?${WS_TICKET_PARAM}=${'A'.repeat(32)}`, agent.host)).rejects.toMatchObject({ status: 403 });
    const t1 = await mint(agent.host, 'sid=1');
    const t2 = await mint(agent.host, 'sid=2');
    await expect(open(`/ws?${WS_TICKET_PARAM}=${t1}&${WS_TICKET_PARAM}=${t2}`, agent.host)).rejects.toMatchObject({
      status: 400,
      headers: { 'x-wingman-error': 'ERR_WS_TICKET' },
    });
    expect(fixture.heads).toHaveLength(0);
  });

  it("refuses a ticket on another session's host and burns it", async () => {
    const otherFixture = createFixture();
    const other = await connectTestAgent(server.port, otherFixture.handler);
    const ticket = await mint(agent.host, 'sid=alice');
    await expect(open(`/ws?${WS_TICKET_PARAM}=${ticket}`, other.host)).rejects.toMatchObject({ status: 403, body: expect.stringContaining('another session') });
    expect(otherFixture.heads).toHaveLength(0);
    await expect(open(`/ws?${WS_TICKET_PARAM}=${ticket}`, agent.host)).rejects.toMatchObject({ status: 403 });
    expect(fixture.heads).toHaveLength(0);
  });

  it('passes a ticketless upgrade unchanged except for stray cookie-bridge headers', async () => {
    await open('/ws?x=1', agent.host, { cookie: 'theme=dark', 'x-wingman-cookie': 'sid=injected', 'x-wingman-cookie-merge': '1' });
    expect(fixture.heads[0]!.target).toBe('/ws?x=1');
    expect(cookieOf(0)).toEqual(['theme=dark']);
    expect(fixture.heads[0]!.headers.map(([n]) => n)).not.toContain('x-wingman-cookie');
  });
});

describe('the ticket endpoint', () => {
  const post = (host: string, body: string, contentType = 'application/json', method = 'POST') =>
    send(server.port, host, { method, path: WS_TICKET_PATH, headers: { 'content-type': contentType }, body });

  it('answers only JSON POSTs carrying a cookie string', async () => {
    expect((await post(agent.host, '', 'application/json', 'GET')).status).toBe(405);
    expect((await post(agent.host, 'cookie=sid%3D1', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post(agent.host, '{not json')).status).toBe(400);
    expect((await post(agent.host, JSON.stringify({ cookie: 42 }))).status).toBe(400);
    expect((await post(agent.host, JSON.stringify({ cookie: 'sid=1\r\nx: y' }))).status).toBe(400);
    const ok = await post(agent.host, JSON.stringify({ cookie: 'sid=1' }));
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
  });

  it('refuses oversized bodies and cookies with 413, unknown sessions with 404', async () => {
    expect((await post(agent.host, JSON.stringify({ cookie: `sid=${'x'.repeat(64 * 1024)}` }))).status).toBe(413);
    expect((await post(agent.host, JSON.stringify({ cookie: `sid=${'x'.repeat(9 * 1024)}` }))).status).toBe(413);
    const unknownHost = `${'z'.repeat(26)}.localhost:${server.port}`;
    expect((await post(unknownHost, JSON.stringify({ cookie: 'sid=1' }))).status).toBe(404);
  });

  it('answers 429 once a session holds MAX_WS_TICKETS_PER_HOST live tickets, and minting resumes after one is used', async () => {
    const tickets: string[] = [];
    for (let i = 0; i < MAX_WS_TICKETS_PER_HOST; i++) tickets.push(await mint(agent.host, `sid=${i}`));
    expect((await post(agent.host, JSON.stringify({ cookie: 'sid=x' }))).status).toBe(429);
    await open(`/ws?${WS_TICKET_PARAM}=${tickets[0]}`, agent.host);
    expect((await post(agent.host, JSON.stringify({ cookie: 'sid=x' }))).status).toBe(200);
  });
});
