/**
 * OWN_SW_PATH: the shell's request to step aside for an app with its own
 * Service Worker. Only a same-origin JSON POST sets the cookie (a form from
 * another site cannot); with it, a browser's top-level navigation gets the
 * app over the relay instead of the shell, the app never sees the cookie,
 * and the agent is told (`viewer-own-sw`).
 */
import { CLIENT_PATH, OWN_SW_COOKIE, OWN_SW_PATH, parseServerMessage, type HeaderList, type ServerToAgentReceived, type Stream } from '@wingman/protocol';
import { createTunnelServer, type TunnelServer } from '@wingman/tunnel-server';
import { send } from './helpers/http-client';
import { closeAllAgents, connectTestAgent, type TestAgent } from './helpers/test-agent';
import { waitForEvent } from '../../../../test/helpers/wait';

jest.setTimeout(30_000);

/** A browser's top-level navigation (Fetch Metadata). */
const NAVIGATION = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

let server: TunnelServer;
let agent: TestAgent;
/** The Cookie header of every request that reached the app. */
let seen: Array<string | undefined>;

beforeEach(async () => {
  seen = [];
  server = await createTunnelServer({ port: 0, tokens: ['own-sw-token-0123456789'], logLevel: 'silent' });
  agent = await connectTestAgent(
    server.port,
    (stream: Stream) => {
      const headers: HeaderList = stream.head.headers;
      seen.push(headers.find(([n]) => n === 'cookie')?.[1]);
      stream.respond(
        {
          status: 200,
          headers: [
            ['content-type', 'text/html'],
            ['content-length', '6'],
          ],
        },
        { end: false },
      );
      stream.write(Buffer.from('app ok'));
      stream.end();
    },
    { token: 'own-sw-token-0123456789', p2p: true },
  );
});

afterEach(async () => {
  closeAllAgents();
  await server.close();
});

describe('the app’s own Service Worker endpoint', () => {
  it('refuses anything but a JSON POST, saying why, and sets no cookie', async () => {
    const get = await send(server.port, agent.host, { path: OWN_SW_PATH });
    expect(get.status).toBe(405);
    const form = await send(server.port, agent.host, {
      method: 'POST',
      path: OWN_SW_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    expect(form.status).toBe(415);
    expect(JSON.parse(form.body.toString())).toMatchObject({ error: 'ERR_CONTENT_TYPE' });
    expect([get, form].map((r) => r.headers['set-cookie'])).toEqual([undefined, undefined]);
  });

  it('sets an HttpOnly cookie, tells the agent, and then serves that browser the app instead of the shell', async () => {
    const shell = await send(server.port, agent.host, { path: '/page', headers: NAVIGATION });
    expect(shell.body.toString()).toContain(CLIENT_PATH);

    const told = waitForEvent(agent.ws, 'message', { timeoutMs: 5_000, what: 'the viewer-own-sw control message' });
    const stepped = await send(server.port, agent.host, {
      method: 'POST',
      path: `${OWN_SW_PATH}?script=${encodeURIComponent('/sw.js')}`,
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(stepped.status).toBe(200);
    const cookie = stepped.headers['set-cookie']?.[0] ?? '';
    expect(cookie).toMatch(new RegExp(`^${OWN_SW_COOKIE}=1; Path=/; HttpOnly; SameSite=Lax$`));
    const [data] = (await told) as [Buffer];
    expect(parseServerMessage(data.toString()) satisfies ServerToAgentReceived).toEqual({ type: 'viewer-own-sw', script: '/sw.js' });

    const app = await send(server.port, agent.host, { path: '/page', headers: { ...NAVIGATION, cookie: `a=1; ${cookie.split(';')[0]}` } });
    expect(app.body.toString()).toBe('app ok');
    expect(seen).toEqual(['a=1']);
  });
});
