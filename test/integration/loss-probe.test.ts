/**
 * The loss probe over real @roamhq/wrtc peers on loopback
 * (docs/PROTOCOL.md §Loss probe): the viewer's measurement on its
 * negotiated probe channel, the agent's echo as the P2P host adds it
 * (relay-server p2p/loss-echo.ts), in a child process so that a native
 * crash is an exit code, not a dead jest. Loopback loses nothing, so the
 * lossy verdict itself is measured in the network lab's lossy-mobile
 * scenario (docs/lab-log.md §Lossy link); here: the count on a clean path, an
 * agent without the channel, and the echo's bounds against a viewer that
 * sends more, or other things, than probes.
 */
import { join } from 'node:path';
import { runNodeScript } from '../helpers/node-script';
import { LOSS_PROBE_COUNT, LOSS_PROBE_EARLY_CLEAN, LOSS_PROBE_WINDOW } from '../../packages/protocol/src/transports/loss-probe';

jest.setTimeout(30_000);

const ROOT = join(__dirname, '..', '..');
const PROTOCOL = join(ROOT, 'packages/protocol/dist/transports/loss-probe.js');
const ECHO = join(ROOT, 'packages/relay-server/dist/p2p/loss-echo.js');

/**
 * The agent of 'stall' mode, in a process of its own (a P2P host's thread
 * stalls, the viewer's does not): it answers the offer on stdin (one JSON
 * line, all candidates in it) on stdout, echoes probes as the P2P host does,
 * and once every probe has left the viewer (a window before the last) its
 * thread stalls past the measurement's settle time.
 */
const STALLING_AGENT = `
const wrtc = require('@roamhq/wrtc');
const { LOSS_PROBE_COUNT } = require(${JSON.stringify(PROTOCOL)});
const { answerLossProbes } = require(${JSON.stringify(ECHO)});
const agent = new wrtc.RTCPeerConnection({ iceServers: [] });
const create = agent.createDataChannel.bind(agent);
agent.createDataChannel = (label, init) => {
  const dc = create(label, init);
  let seen = 0;
  dc.addEventListener('message', () => {
    if (++seen !== LOSS_PROBE_COUNT - 8) return;
    const until = Date.now() + 800;
    while (Date.now() < until);
  });
  return dc;
};
answerLossProbes(agent);
agent.ondatachannel = () => undefined;
let input = '';
process.stdin.on('data', async (d) => {
  input += d;
  if (!input.includes('\\n')) return;
  await agent.setRemoteDescription(JSON.parse(input));
  await agent.setLocalDescription(await agent.createAnswer());
  if (agent.iceGatheringState !== 'complete') await new Promise((resolve) => (agent.onicegatheringstatechange = () => agent.iceGatheringState === 'complete' && resolve()));
  process.stdout.write(JSON.stringify(agent.localDescription) + '\\n');
});
`;

/**
 * argv[1]: 'echo' (the agent adds its probe channel), 'stall' (the same,
 * the thread stalled near the end), 'none' (an agent without one) or
 * 'flood' (the viewer sends twice the count, and odd messages, raw). Prints the viewer's result, the app channel's state and
 * the agent's data-channel events.
 */
const SCRIPT = `
const wrtc = require('@roamhq/wrtc');
const { runLossProbe, lossProbeMessage, LOSS_PROBE_INIT, LOSS_PROBE_LABEL, LOSS_PROBE_COUNT } = require(${JSON.stringify(PROTOCOL)});
const { answerLossProbes } = require(${JSON.stringify(ECHO)});
const mode = process.argv[1];
(async () => {
  const viewer = new wrtc.RTCPeerConnection({ iceServers: [] });
  if (mode === 'stall') return stalling(viewer);
  const agent = new wrtc.RTCPeerConnection({ iceServers: [] });
  viewer.onicecandidate = (e) => e.candidate && agent.addIceCandidate(e.candidate).catch(() => undefined);
  agent.onicecandidate = (e) => e.candidate && viewer.addIceCandidate(e.candidate).catch(() => undefined);
  const app = viewer.createDataChannel('wingman');
  const appOpen = new Promise((resolve) => (app.onopen = resolve));
  const probe = viewer.createDataChannel(LOSS_PROBE_LABEL, { ...LOSS_PROBE_INIT });
  probe.binaryType = 'arraybuffer';
  const agentChannels = [];
  agent.ondatachannel = (e) => agentChannels.push(e.channel.label);
  if (mode !== 'none') answerLossProbes(agent);
  await viewer.setLocalDescription(await viewer.createOffer());
  await agent.setRemoteDescription(viewer.localDescription);
  await agent.setLocalDescription(await agent.createAnswer());
  await viewer.setRemoteDescription(agent.localDescription);
  await appOpen;
  let result;
  if (mode === 'flood') {
    let back = 0;
    probe.onmessage = () => back++;
    if (probe.readyState !== 'open') await new Promise((resolve) => (probe.onopen = resolve));
    probe.send(new ArrayBuffer(10));
    probe.send(new ArrayBuffer(1500));
    for (let i = 0; i < 2 * LOSS_PROBE_COUNT; i++) probe.send(lossProbeMessage(i % LOSS_PROBE_COUNT));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    result = { back };
  } else {
    const t0 = Date.now();
    let early = null;
    result = await runLossProbe(probe, { onEarlyClean: (r) => (early = r.echoed) });
    result.ms = undefined;
    result.earlyClean = early;
    result.withinDeadline = Date.now() - t0 < 5000;
  }
  console.log(JSON.stringify({ result, app: app.readyState, agentChannels, connection: viewer.connectionState }));
  viewer.close();
  agent.close();
  setTimeout(() => process.exit(0), 300);
})().catch((e) => { console.error(e); process.exit(2); });

/** 'stall': the offer with every candidate to the agent's process, its answer back; then the measurement. */
async function stalling(viewer) {
  const agent = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(STALLING_AGENT)}], { stdio: ['pipe', 'pipe', 'inherit'] });
  const probe = viewer.createDataChannel(LOSS_PROBE_LABEL, { ...LOSS_PROBE_INIT });
  probe.binaryType = 'arraybuffer';
  const app = viewer.createDataChannel('wingman');
  const appOpen = new Promise((resolve) => (app.onopen = resolve));
  await viewer.setLocalDescription(await viewer.createOffer());
  if (viewer.iceGatheringState !== 'complete') await new Promise((resolve) => (viewer.onicegatheringstatechange = () => viewer.iceGatheringState === 'complete' && resolve()));
  agent.stdin.write(JSON.stringify(viewer.localDescription) + '\\n');
  let answer = '';
  for await (const chunk of agent.stdout) {
    answer += chunk;
    if (answer.includes('\\n')) break;
  }
  await viewer.setRemoteDescription(JSON.parse(answer));
  await appOpen;
  const result = await runLossProbe(probe);
  console.log(JSON.stringify({ result: { ...result, ms: undefined }, app: app.readyState, connection: viewer.connectionState }));
  viewer.close();
  agent.kill();
  setTimeout(() => process.exit(0), 300);
}
`;

async function run(mode: 'echo' | 'stall' | 'none' | 'flood'): Promise<Record<string, unknown>> {
  const r = await runNodeScript(SCRIPT, { cwd: ROOT, args: [mode] });
  expect({ code: r.code, signal: r.signal, stderr: r.stderr.trim() }).toEqual({ code: 0, signal: null, stderr: '' });
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('loss probe on real data channels', () => {
  it('counts every probe back and none lost on a path that loses nothing, beside the app channel', async () => {
    expect(await run('echo')).toEqual({
      // Called clean early, once LOSS_PROBE_EARLY_CLEAN probes were back with none lost.
      result: { sent: LOSS_PROBE_COUNT, echoed: LOSS_PROBE_COUNT, lost: 0, lossy: false, withinDeadline: true, earlyClean: LOSS_PROBE_EARLY_CLEAN },
      app: 'open',
      // Negotiated: the agent's channel handler never sees the probe channel.
      agentChannels: ['wingman'],
      connection: 'connected',
    });
  });

  it('counts no answer that comes late as lost: a stalled thread is no lossy path', async () => {
    const { result } = (await run('stall')) as { result: { sent: number; echoed: number; lost: number; lossy: boolean } };
    // The measurement ended (its settle time ran out during the stall) before some answers came back.
    expect({ sent: result.sent, lost: result.lost, lossy: result.lossy, late: result.echoed < result.sent }).toEqual({
      sent: LOSS_PROBE_COUNT,
      lost: 0,
      lossy: false,
      late: true,
    });
  });

  it('gives no verdict, and leaves the app channel alone, with an agent that has no probe channel', async () => {
    expect(await run('none')).toEqual({
      // Nothing comes back, so no more than one window leaves; the measurement ends at its deadline.
      result: { sent: LOSS_PROBE_WINDOW, echoed: 0, lost: 0, lossy: false, withinDeadline: true, earlyClean: null },
      app: 'open',
      agentChannels: ['wingman'],
      connection: 'connected',
    });
  });

  it('echoes at most one measurement of probes per peer connection, and nothing that is not a probe', async () => {
    expect(await run('flood')).toEqual({ result: { back: LOSS_PROBE_COUNT }, app: 'open', agentChannels: ['wingman'], connection: 'connected' });
  });
});
