/**
 * Tail-loss probes on a data channel (docs/PROTOCOL.md §Tail-loss probes):
 * after each burst an end sends TAIL_PROBE_COUNT probe messages, which the
 * peer's Connection ignores. Real @roamhq/wrtc
 * peers on loopback, a Connection at each end, in a child process so that a
 * native crash is an exit code, not a dead jest.
 */
import { join } from 'node:path';
import { runNodeScript } from '../helpers/node-script';
import { TAIL_PROBE_COUNT } from '../../packages/protocol/src/transports/tail-probe';

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'packages/protocol/dist');

/**
 * A PING each way, one after the other: each end counts the messages its
 * channel delivers (every one, probes included) and reports the counts once
 * both ends have been quiet for a while, with the round trips and whether
 * either Connection failed.
 */
const SCRIPT = `
const wrtc = require('@roamhq/wrtc');
const { connectionOverDataChannel } = require(${JSON.stringify(join(DIST, 'transports/data-channel.js'))});
const { tailProbeMessage } = require(${JSON.stringify(join(DIST, 'transports/tail-probe.js'))});
const probe = Buffer.from(tailProbeMessage());
// 'on' / 'off': probes or none.
const mode = process.argv[1];
(async () => {
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => undefined);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => undefined);
  const dcA = a.createDataChannel('wingman');
  const openA = new Promise((resolve) => (dcA.onopen = resolve));
  const openB = new Promise((resolve) => {
    b.ondatachannel = (e) => (e.channel.readyState === 'open' ? resolve(e.channel) : (e.channel.onopen = () => resolve(e.channel)));
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  const [, dcB] = await Promise.all([openA, openB]);
  // Every message each end's channel delivers: whether it is a probe.
  const seen = { a: [], b: [] };
  dcA.addEventListener('message', (e) => seen.a.push(probe.equals(Buffer.from(e.data))));
  dcB.addEventListener('message', (e) => seen.b.push(probe.equals(Buffer.from(e.data))));
  const failures = [];
  const connA = connectionOverDataChannel(dcA, { role: 'client', tailProbes: mode !== 'off' });
  const connB = connectionOverDataChannel(dcB, { role: 'server', tailProbes: mode !== 'off' });
  for (const c of [connA, connB]) {
    c.on('error', (e) => failures.push('error ' + e.code));
    c.on('close', (e) => failures.push('close ' + (e ? e.code : '')));
  }
  await Promise.all([connA, connB].map((c) => new Promise((resolve) => c.on('ready', resolve))));
  const quiet = () => new Promise((resolve) => setTimeout(resolve, 300));
  await quiet();
  const before = { a: seen.a.length, b: seen.b.length };
  // A PING from one end, then from the other.
  const rtts = [await connA.ping(5000)];
  await quiet();
  rtts.push(await connB.ping(5000));
  await quiet();
  const probes = (list) => list.filter((isProbe) => isProbe).length;
  const after = { a: seen.a.slice(before.a), b: seen.b.slice(before.b) };
  console.log(JSON.stringify({
    pinged: rtts.every((ms) => ms >= 0),
    probesAtA: probes(after.a),
    probesAtB: probes(after.b),
    otherAtA: after.a.length - probes(after.a),
    otherAtB: after.b.length - probes(after.b),
    failures,
  }));
  // Ends the Connections before their channels, so that neither sends into a
  // channel @roamhq/wrtc is tearing down (a send racing that teardown crashes
  // the process: Connection.abandon's reason).
  connA.abandon();
  connB.abandon();
  a.close();
  b.close();
  setTimeout(() => process.exit(0), 300);
})().catch((e) => { console.error(e); process.exit(2); });
`;

describe('tail-loss probes on a data channel', () => {
  it('follow each burst with TAIL_PROBE_COUNT probes, which the peer ignores', async () => {
    const r = await runNodeScript(SCRIPT, { cwd: ROOT, args: ['on'] });
    expect({ code: r.code, signal: r.signal, stderr: r.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
    // Each end sent two bursts (a PING, then a PONG): TAIL_PROBE_COUNT probes after each.
    // The PINGs and PONGs themselves: one message each way per burst.
    const probes = 2 * TAIL_PROBE_COUNT;
    expect(JSON.parse(r.stdout)).toEqual({ pinged: true, probesAtA: probes, probesAtB: probes, otherAtA: 2, otherAtB: 2, failures: [] });
  });

  it('are not sent when turned off', async () => {
    const r = await runNodeScript(SCRIPT, { cwd: ROOT, args: ['off'] });
    expect({ code: r.code, signal: r.signal, stderr: r.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ pinged: true, probesAtA: 0, probesAtB: 0, otherAtA: 2, otherAtB: 2, failures: [] });
  });
});
