/**
 * Tail-loss probes on a data channel (docs/PROTOCOL.md §Tail-loss probes):
 * after each burst an end sends TAIL_PROBE_COUNT probe messages, which the
 * peer's Connection ignores; with a TailProbeGroup, once per burst of the
 * whole peer connection, whichever of its channels sent. Real @roamhq/wrtc
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
const { TailProbeGroup, tailProbeMessage } = require(${JSON.stringify(join(DIST, 'transports/tail-probe.js'))});
const probe = Buffer.from(tailProbeMessage());
// 'on' / 'off': one channel, probes or none; 'each' / 'group': two channels of one peer connection, a prober per
// channel or one for the peer connection (TailProbeGroup).
const mode = process.argv[1];
const channels = mode === 'each' || mode === 'group' ? 2 : 1;
(async () => {
  const a = new wrtc.RTCPeerConnection({ iceServers: [] });
  const b = new wrtc.RTCPeerConnection({ iceServers: [] });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate).catch(() => undefined);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate).catch(() => undefined);
  const dcsA = Array.from({ length: channels }, (_, i) => a.createDataChannel('wingman-' + i));
  const openA = Promise.all(dcsA.map((dc) => new Promise((resolve) => (dc.onopen = resolve))));
  const dcsB = [];
  const openB = new Promise((resolve) => {
    const add = (dc) => {
      dcsB.push(dc);
      if (dcsB.length === channels) resolve();
    };
    b.ondatachannel = (e) => (e.channel.readyState === 'open' ? add(e.channel) : (e.channel.onopen = () => add(e.channel)));
  });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
  await Promise.all([openA, openB]);
  dcsB.sort((x, y) => (x.label < y.label ? -1 : 1));
  // Every message each end's channels deliver: whether it is a probe.
  const seen = { a: [], b: [] };
  for (const dc of dcsA) dc.addEventListener('message', (e) => seen.a.push(probe.equals(Buffer.from(e.data))));
  for (const dc of dcsB) dc.addEventListener('message', (e) => seen.b.push(probe.equals(Buffer.from(e.data))));
  const failures = [];
  const probesOf = () => (mode === 'group' ? new TailProbeGroup() : mode !== 'off');
  const [probesA, probesB] = [probesOf(), probesOf()];
  const connsA = dcsA.map((dc) => connectionOverDataChannel(dc, { role: 'client', tailProbes: probesA }));
  const connsB = dcsB.map((dc) => connectionOverDataChannel(dc, { role: 'server', tailProbes: probesB }));
  for (const c of [...connsA, ...connsB]) {
    c.on('error', (e) => failures.push('error ' + e.code));
    c.on('close', (e) => failures.push('close ' + (e ? e.code : '')));
  }
  await Promise.all([...connsA, ...connsB].map((c) => new Promise((resolve) => c.on('ready', resolve))));
  const quiet = () => new Promise((resolve) => setTimeout(resolve, 300));
  await quiet();
  const before = { a: seen.a.length, b: seen.b.length };
  // A PING on each channel at once (one burst), from one end, then from the other.
  const rtts = await Promise.all(connsA.map((c) => c.ping(5000)));
  await quiet();
  rtts.push(...(await Promise.all(connsB.map((c) => c.ping(5000)))));
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

  it("go once per peer connection with a group: its channels' bursts share one count of probes", async () => {
    const each = await runNodeScript(SCRIPT, { cwd: ROOT, args: ['each'] });
    expect(each.code).toBe(0);
    // Two channels, each with its own prober: every burst is followed by TAIL_PROBE_COUNT probes per channel.
    expect(JSON.parse(each.stdout)).toEqual({
      pinged: true,
      probesAtA: 4 * TAIL_PROBE_COUNT,
      probesAtB: 4 * TAIL_PROBE_COUNT,
      otherAtA: 4,
      otherAtB: 4,
      failures: [],
    });
    const group = await runNodeScript(SCRIPT, { cwd: ROOT, args: ['group'] });
    expect({ code: group.code, signal: group.signal, stderr: group.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
    // The same bursts, one prober for the peer connection: TAIL_PROBE_COUNT after each.
    expect(JSON.parse(group.stdout)).toEqual({
      pinged: true,
      probesAtA: 2 * TAIL_PROBE_COUNT,
      probesAtB: 2 * TAIL_PROBE_COUNT,
      otherAtA: 4,
      otherAtB: 4,
      failures: [],
    });
  });

  it('are not sent when turned off', async () => {
    const r = await runNodeScript(SCRIPT, { cwd: ROOT, args: ['off'] });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ pinged: true, probesAtA: 0, probesAtB: 0, otherAtA: 2, otherAtB: 2, failures: [] });
  });
});
