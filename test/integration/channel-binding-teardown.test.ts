/**
 * A data channel whose peer connection is closed while its channel-binding
 * proofs are being computed (a page that navigates while the agent binds its
 * channel): the binding must fail, not send. With
 * @roamhq/wrtc a send on such a channel throws out of a promise callback
 * (the process dies of the unhandled rejection) or, once the native channel
 * is gone, crashes it with SIGSEGV in RTCDataChannel::Send: the agent's P2P
 * host process died of it in the browser end-to-end tests. Real wrtc peers,
 * in a child process so that a crash is an exit code, not a dead jest.
 */
import { join } from 'node:path';
import { runNodeScript } from '../helpers/node-script';

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..', '..');

/** Two wrtc peers on loopback; the answerer's channel is bound with proofs that come only after both peers closed. */
const SCRIPT = `
const wrtc = require('@roamhq/wrtc');
const { bindDataChannel } = require(${JSON.stringify(join(ROOT, 'packages/protocol/dist/trust/channel-binding.js'))});
(async () => {
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => undefined);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => undefined);
  a.createDataChannel('wingman');
  const opened = new Promise((resolve) => {
    b.ondatachannel = (e) => (e.channel.readyState === 'open' ? resolve(e.channel) : (e.channel.onopen = () => resolve(e.channel)));
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const dc = await opened;
  let release;
  const proofs = new Promise((resolve) => (release = resolve)).then(() => ({ own: 'a'.repeat(43), expected: 'b'.repeat(43) }));
  const bound = bindDataChannel(dc, () => proofs, 5000).then(() => 'bound', (e) => 'refused: ' + e.message);
  b.close();
  a.close();
  release();
  console.log(await bound);
  setTimeout(() => process.exit(0), 300);
})().catch((e) => { console.error(e); process.exit(2); });
`;

describe('channel binding on a channel torn down while its proofs are computed', () => {
  it('fails the binding without sending, and the process lives on', async () => {
    const r = await runNodeScript(SCRIPT, { cwd: ROOT });
    expect({ code: r.code, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr.trim() }).toEqual({
      code: 0,
      signal: null,
      stdout: 'refused: the channel closed during channel binding',
      stderr: '',
    });
  });
});
