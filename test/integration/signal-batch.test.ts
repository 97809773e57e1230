/**
 * Signal batches (docs/PROTOCOL.md §Signal batches): a viewer that names its
 * own viewer id on the signaling socket's URL can POST its first signals
 * before the socket's hello, and the real tunnel server relays them to the
 * real agent as if they had come on the socket; what it cannot tie to that
 * socket it refuses with a code and relays nothing. The offers come from
 * @roamhq/wrtc in a Node process of their own (test/helpers/node-script.ts),
 * never inside jest.
 */
import { SHELL_PATH } from '@wingman/protocol';
import WebSocket from 'ws';
import { startFixtureApp, type FixtureApp } from '../helpers/fixture-app';
import { metricSum, send } from '../helpers/http-client';
import { runNodeScript } from '../helpers/node-script';
import { killAll, ROOT, startTunnel, type Tunnel } from '../helpers/processes';
import { shellDocumentHello } from '../helpers/shell-hello';
import { until, waitForEvent } from '../helpers/wait';

jest.setTimeout(60_000);

let app: FixtureApp;
let t: Tunnel;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  app = await startFixtureApp();
  t = await startTunnel(String(app.port));
});

afterEach(() => {
  for (const ws of sockets.splice(0)) ws.close();
});

afterAll(async () => {
  await killAll();
  await app.close();
});

interface Message {
  type: string;
  viewerId?: string;
  code?: string;
  sdp?: string;
}

/** A signaling socket (`viewer`: the id it names) and every message it gets. */
async function socket(viewer?: string): Promise<{ ws: WebSocket; messages: Message[]; hello: Message }> {
  const query = viewer === undefined ? '' : `?viewer=${viewer}`;
  const ws = new WebSocket(`ws://127.0.0.1:${t.serverPort}/__wingman/signal${query}`, { headers: { host: t.host } });
  sockets.push(ws);
  const messages: Message[] = [];
  const first = waitForEvent(ws, 'message', { timeoutMs: 10_000, what: 'the hello' });
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Message));
  await first;
  return { ws, messages, hello: messages[0]! };
}

/** POSTs a batch to the session's SIGNAL_PATH. */
function postBatch(body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }, method = 'POST') {
  return send(t.serverPort, t.host, { method, path: '/__wingman/signal', headers, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) });
}

/** Prints the SDP of a real offer with one data channel, as JSON. */
const OFFER_SCRIPT = `
const { RTCPeerConnection } = require('@roamhq/wrtc');
const pc = new RTCPeerConnection();
pc.createDataChannel('wingman');
pc.createOffer().then(
  (o) => {
    console.log(JSON.stringify({ sdp: o.sdp }));
    pc.close();
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
`;

/** A real offer with one data channel (what the agent answers), made by wrtc in a process of its own. */
async function offer(): Promise<string> {
  const r = await runNodeScript(OFFER_SCRIPT, { cwd: ROOT });
  expect({ code: r.code, signal: r.signal, stderr: r.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
  const { sdp } = JSON.parse(r.stdout) as { sdp?: unknown };
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw new Error(`the offer script printed no SDP: ${r.stdout}`);
  return sdp;
}

const answered = (messages: Message[]) => messages.some((m) => m.type === 'answer');
const agentAnswered = (messages: Message[]) =>
  until(() => (answered(messages) ? true : undefined), { timeoutMs: 15_000, intervalMs: 20, what: "the agent's answer on the viewer's socket" });

describe('signal batches', () => {
  it('gives a socket the viewer id it names, and another one to a second socket naming the same', async () => {
    const id = '0123456789abcdef';
    const a = await socket(id);
    expect(a.hello).toMatchObject({ type: 'hello', viewerId: id });
    const b = await socket(id);
    expect(b.hello.viewerId).toMatch(/^[0-9a-f]{16}$/);
    expect(b.hello.viewerId).not.toBe(id);
    const c = await socket('not-an-id');
    expect(c.hello.viewerId).toMatch(/^[0-9a-f]{16}$/);
  });

  it("relays a batch's offer to the agent, which answers on the viewer's socket", async () => {
    const id = 'a1b2c3d4e5f60718';
    const s = await socket(id);
    const before = await metricSum(t.serverPort, 'wingman_signal_batches_total', 'outcome="relayed"');
    const r = await postBatch({ viewerId: id, messages: [{ type: 'offer', sdp: await offer() }] });
    expect(r.status).toBe(204);
    await agentAnswered(s.messages);
    expect(await metricSum(t.serverPort, 'wingman_signal_batches_total', 'outcome="relayed"')).toBe(before + 1);
  });

  it("puts a hello of the document's own viewer in a first visit's shell: a socket naming it gets that hello, its batch is relayed; the Service Worker's copy has none", async () => {
    const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', accept: 'text/html' };
    const docs = await Promise.all([0, 1].map(() => send(t.serverPort, t.host, { method: 'GET', path: '/', headers: navigation })));
    const hellos = docs.map((d) => {
      expect(d.status).toBe(200);
      return shellDocumentHello(d.body.toString());
    });
    // Each document its own viewer.
    expect(hellos[0]).toMatchObject({ type: 'hello', viewerId: expect.stringMatching(/^[0-9a-f]{16}$/), p2p: { enabled: true } });
    expect(hellos[1]!.viewerId).not.toBe(hellos[0]!.viewerId);
    const s = await socket(hellos[0]!.viewerId);
    expect(s.hello).toEqual(hellos[0]);
    const r = await postBatch({ viewerId: hellos[0]!.viewerId, messages: [{ type: 'offer', sdp: await offer() }] });
    expect(r.status).toBe(204);
    await agentAnswered(s.messages);
    // The copy answers later navigations, which need viewers of their own: it names none.
    const copy = await send(t.serverPort, t.host, { method: 'GET', path: SHELL_PATH });
    expect(copy.status).toBe(200);
    expect(copy.body.toString()).toContain('data-wingman-p2p');
    expect(shellDocumentHello(copy.body.toString())).toBeUndefined();
  });

  it('waits for a socket that opens after the batch came', async () => {
    const id = '1111222233334444';
    const posted = postBatch({ viewerId: id, messages: [{ type: 'offer', sdp: await offer() }] });
    await new Promise((r) => setTimeout(r, 200));
    const s = await socket(id);
    expect((await posted).status).toBe(204);
    await agentAnswered(s.messages);
  });

  it('refuses a batch for a viewer no socket has, from another address, or badly formed, relaying nothing', async () => {
    const id = '5555666677778888';
    const s = await socket(id);
    const sdp = await offer();
    const unknown = await postBatch({ viewerId: 'ffffffffffffffff', messages: [{ type: 'offer', sdp }] });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString())).toMatchObject({ error: 'ERR_UNKNOWN_VIEWER' });
    const elsewhere = await send(t.serverPort, t.host, {
      method: 'POST',
      path: '/__wingman/signal',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ viewerId: id, messages: [{ type: 'offer', sdp }] })),
      localAddress: '127.0.0.2',
    });
    expect(elsewhere.status).toBe(404);
    const plain = await postBatch({ viewerId: id, messages: [{ type: 'offer', sdp }] }, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(415);
    const bad = await postBatch({ viewerId: id, messages: [{ type: 'offer', sdp, sessionId: 'x' }] });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString())).toMatchObject({ error: 'ERR_INVALID_SIGNAL' });
    const empty = await postBatch({ viewerId: id, messages: [] });
    expect(empty.status).toBe(400);
    const many = await postBatch({ viewerId: id, messages: Array.from({ length: 9 }, () => ({ type: 'end-of-candidates' })) });
    expect(many.status).toBe(400);
    const huge = await postBatch('x'.repeat(70 * 1024));
    expect(huge.status).toBe(413);
    const get = await postBatch('', {}, 'GET');
    expect(get.status).toBe(405);
    // None of them reached the agent: no answer came, and the socket still works.
    await new Promise((r) => setTimeout(r, 500));
    expect(answered(s.messages)).toBe(false);
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
  });
});
