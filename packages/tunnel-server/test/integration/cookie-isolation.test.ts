/**
 * A hostile agent (its developer controls it) answers with cookies for the
 * whole tunnel domain; the tunnel server must keep each one on the session
 * host, on every path a Set-Cookie takes through it: relayed HTTP, the
 * Service Worker's cookie bridge, a WebSocket's 101 and a refused upgrade.
 */
import type { HeaderList, Stream } from '@wingman/protocol';
import WebSocket from 'ws';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { send } from './helpers/http-client';
import { closeAllAgents, connectTestAgent, TEST_TOKEN, type TestAgent } from './helpers/test-agent';
import { withTimeout } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

/** What the agent sets on every response: a tossed cookie, a foreign one, an honest one. */
const SET_COOKIES: HeaderList = [
  ['set-cookie', 'tossed=1; Path=/; Domain=localhost; SameSite=Lax'],
  ['set-cookie', 'foreign=1; Path=/; Domain=elsewhere.localhost'],
  ['set-cookie', 'own=1; Path=/; HttpOnly'],
];
const EXPECTED = ['tossed=1; Path=/; SameSite=Lax', 'own=1; Path=/; HttpOnly'];

function hostileAgent(stream: Stream): void {
  const target = stream.head.target;
  if (stream.kind === 'ws') {
    if (target === '/refuse') return stream.respond({ status: 403, headers: SET_COOKIES });
    stream.respond({ status: 101, headers: SET_COOKIES });
    stream.on('wsClose', (code, reason) => stream.closeWs(code, reason));
    return;
  }
  const redirect = target === '/redirect';
  stream.respond(
    { status: redirect ? 302 : 200, headers: [...SET_COOKIES, ...(redirect ? ([['location', '/next']] as HeaderList) : []), ['content-length', '0']] },
    { end: true },
  );
}

let server: TunnelServer;
let agent: TestAgent;
const viewers = new Set<WebSocket>();

beforeEach(async () => {
  server = await createTunnelServer({ port: 0, tokens: [TEST_TOKEN], logLevel: 'silent' });
  agent = await connectTestAgent(server.port, hostileAgent);
});

afterEach(async () => {
  for (const ws of viewers) ws.terminate();
  viewers.clear();
  closeAllAgents();
  await server.close();
});

/** The Set-Cookie fields (or the upgrade's, or the refusal's) a viewer's WebSocket to `path` receives. */
function upgradeCookies(path: string): Promise<{ status: number; cookies: string[] | undefined }> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers: { host: agent.host } });
  viewers.add(ws);
  const answered = new Promise<{ status: number; cookies: string[] | undefined }>((resolve) => {
    ws.once('upgrade', (res) => resolve({ status: 101, cookies: res.headers['set-cookie'] }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] }));
    ws.once('error', () => undefined);
  });
  return withTimeout(answered, { timeoutMs: 10_000, what: `an answer to the upgrade of ${path}` });
}

describe('relayed cookies stay on their session host', () => {
  it('strips Domain from relayed Set-Cookie and drops a cookie for another host', async () => {
    const r = await send(server.port, agent.host, { path: '/' });
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']).toEqual(EXPECTED);
  });

  it('hands the Service Worker host-only cookies through the cookie bridge, redirects included', async () => {
    const r = await send(server.port, agent.host, { path: '/redirect', headers: { 'x-wingman-via': 'sw' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-wingman-status']).toBe('302');
    expect(r.headers['set-cookie']).toBeUndefined();
    expect(JSON.parse(String(r.headers['x-wingman-set-cookie']))).toEqual(EXPECTED);
  });

  it('strips Domain from the Set-Cookie of a relayed WebSocket 101', async () => {
    expect(await upgradeCookies('/socket')).toEqual({ status: 101, cookies: EXPECTED });
  });

  it('strips Domain from the Set-Cookie of a refused WebSocket upgrade', async () => {
    expect(await upgradeCookies('/refuse')).toEqual({ status: 403, cookies: EXPECTED });
  });
});
