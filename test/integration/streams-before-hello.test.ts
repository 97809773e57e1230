/**
 * A viewer's requests leave with its HELLO on a data channel (docs/PROTOCOL.md
 * §Connection, `streamsBeforePeerHello`), not a round trip later: real
 * @roamhq/wrtc peers on loopback with negotiated channels as the shell and the
 * agent make them, a Connection made at each end's `open`, in a child process
 * so that a native crash is an exit code, not a dead jest.
 */
import { join } from 'node:path';
import { runNodeScript } from '../helpers/node-script';
import { FRAME_HEADER_BYTES } from '../../packages/protocol/src/constants';

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'packages/protocol/dist');

/**
 * The client opens a request as soon as its channel is open and reports how
 * many bytes its Connection had sent when the server's HELLO arrived (its
 * own HELLO alone, or the request too), and the response it got.
 */
const SCRIPT = `
const wrtc = require('@roamhq/wrtc');
const { connectionOverDataChannel } = require(${JSON.stringify(join(DIST, 'transports/data-channel.js'))});
const eager = process.argv[1] === 'eager';
setTimeout(() => { console.error('timed out'); process.exit(3); }, 20000).unref();
(async () => {
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => undefined);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => undefined);
  const dcA = a.createDataChannel('wingman-0', { negotiated: true, id: 0 });
  const dcB = b.createDataChannel('wingman-0', { negotiated: true, id: 0 });
  const failures = [];
  const watch = (c) => {
    c.on('error', (e) => failures.push('error ' + e.code));
    c.on('close', (e) => failures.push('close ' + (e ? e.code : '')));
  };
  dcB.onopen = () => {
    const server = connectionOverDataChannel(dcB, { role: 'server', tailProbes: false });
    watch(server);
    server.on('stream', (s) => {
      s.respond({ status: 200, headers: [] });
      s.write(Buffer.from('hi ' + s.head.target));
      s.end();
    });
  };
  const negotiated = (async () => {
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
  })();
  const result = await new Promise((resolve) => {
    dcA.onopen = () => {
      const client = connectionOverDataChannel(dcA, { role: 'client', tailProbes: false, streamsBeforePeerHello: eager });
      watch(client);
      const readyAtOpen = client.isReady;
      let sentAtPeerHello;
      client.on('ready', () => (sentAtPeerHello = client.bytesSent));
      const s = client.open('http', { method: 'GET', target: '/first', headers: [] }, { end: true });
      const chunks = [];
      let status;
      s.on('response', (h) => (status = h.status));
      s.on('data', (d) => chunks.push(Buffer.from(d)));
      s.on('end', () => resolve({ readyAtOpen, sentAtPeerHello, status, body: Buffer.concat(chunks).toString() }));
    };
  });
  await negotiated;
  console.log(JSON.stringify({ ...result, failures }));
  a.close();
  b.close();
  setTimeout(() => process.exit(0), 300);
})().catch((e) => { console.error(e); process.exit(2); });
`;

async function run(mode: 'eager' | 'waiting') {
  const r = await runNodeScript(SCRIPT, { cwd: ROOT, args: [mode] });
  expect({ code: r.code, signal: r.signal, stderr: r.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
  return JSON.parse(r.stdout) as { readyAtOpen: boolean; sentAtPeerHello: number; status: number; body: string; failures: string[] };
}

/** A HELLO frame: its header, then 14 bytes (docs/PROTOCOL.md §HELLO). */
const HELLO_FRAME_BYTES = FRAME_HEADER_BYTES + 14;

describe('streams before the peer HELLO on a data channel', () => {
  it("sends the viewer's first request before the agent's HELLO arrives, and gets its answer", async () => {
    const r = await run('eager');
    expect(r).toMatchObject({ readyAtOpen: true, status: 200, body: 'hi /first', failures: [] });
    expect(r.sentAtPeerHello).toBeGreaterThan(HELLO_FRAME_BYTES);
  });

  it('without it, holds the request until that HELLO', async () => {
    const r = await run('waiting');
    expect(r).toMatchObject({ readyAtOpen: false, status: 200, body: 'hi /first', failures: [] });
    expect(r.sentAtPeerHello).toBe(HELLO_FRAME_BYTES);
  });
});
