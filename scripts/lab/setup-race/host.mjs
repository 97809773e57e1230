#!/usr/bin/env node
/**
 * The agent's side of the set-up race (setup-race/index.mjs), run in the dev
 * namespace: bare @roamhq/wrtc peer connections made as the agent's P2P host
 * makes them (packages/relay-server's webrtc module), one data channel each
 * that echoes what it receives. Per trial k the browser side writes
 * `prepare-<k>.json` ({ design }); this closes trial k-1's peer connection and
 *  - design `viewer-offers` (Wingman today): answers `ready`, then answers the
 *    viewer's offer and trickles its candidates as they come, as the P2P host
 *    sends them;
 *  - design `agent-offers`: makes the peer connection, its channel and the
 *    offer now and waits for its candidates (raw-serve.mjs gathered()), before the
 *    trial's clock starts, and hands that offer over in `offer-<k>.json`;
 *    then applies the viewer's answer and candidates;
 *  - design `resume`: answers now the offer the viewer made ahead
 *    (`prepare-<k>.json`'s `sdp`: its ICE credentials and certificate kept
 *    for its next peer connection), candidates gathered, and hands the answer
 *    over in `offer-<k>.json`; then applies the viewer's candidates.
 * As the agent does with a viewer not on its machine, loopback candidates stay back
 * (trickled and in the answer).
 * Usage: node host.mjs <dir> <stun url,…> <one-way signaling delay ms>
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CANDIDATES_MODULE, WEBRTC_MODULE } from '../../bench/lib/config.mjs';
import { gathered } from '../../bench/lib/raw-serve.mjs';
import { messageReader, writeJsonFile, writeMessage } from './signal-files.mjs';

const require = createRequire(import.meta.url);
const { createPeerConnection } = require(WEBRTC_MODULE);
const { answerCandidates, isLoopbackCandidate } = require(CANDIDATES_MODULE);

const POLL_MS = 2;
/** The host ends itself after this long without a new trial. */
const IDLE_LIMIT_MS = 300_000;

const [dir, stun = '', delay = '0'] = process.argv.slice(2);
if (!dir) throw new Error('usage: host.mjs <dir> <stun url,…> <delay ms>');
const iceServers = stun ? [{ urls: stun.split(',') }] : [];
const delayMs = Number(delay);

/** @type {any} */
let pc;
let trial = -1;
/** @type {ReturnType<typeof messageReader> | undefined} */
let reader;
let seq = 0;
let remoteSet = false;
/** @type {any[]} */
let pending = [];

const echo = (dc) => {
  dc.onmessage = (ev) => dc.send(ev.data);
};
const send = (k, msg) => writeMessage(dir, 'a', k, seq++, msg);

async function prepare(k) {
  const { design, sdp: resumeOffer } = JSON.parse(readFileSync(join(dir, `prepare-${k}.json`), 'utf8'));
  pc?.close();
  trial = k;
  seq = 0;
  remoteSet = false;
  pending = [];
  reader = messageReader(dir, 'v', k, delayMs);
  pc = undefined;
  let out = { ready: true };
  if (design === 'agent-offers') {
    pc = createPeerConnection({ iceServers });
    echo(pc.createDataChannel('race', { ordered: true }));
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    out = { sdp: pc.localDescription.sdp };
  } else if (design === 'resume') {
    // The page's next offer, made ahead (its ICE credentials and certificate kept for it): answered
    // now, candidates gathered; only the page's candidates come once the trial runs.
    pc = createPeerConnection({ iceServers });
    echo(pc.createDataChannel('race', { negotiated: true, id: 0, ordered: true }));
    await pc.setRemoteDescription({ type: 'offer', sdp: resumeOffer });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    remoteSet = true;
    out = { sdp: answerCandidates(pc.localDescription.sdp, { loopback: false, hideHost: false }) };
  }
  writeJsonFile(join(dir, `offer-${k}.json`), out);
}

async function onMessage(k, msg) {
  if (msg.type === 'offer') {
    // As the agent does: the peer connection is made when the offer arrives.
    const own = createPeerConnection({ iceServers });
    pc = own;
    pc.ondatachannel = (ev) => echo(ev.channel);
    pc.onicecandidate = (ev) => {
      if (!ev.candidate || pc !== own) return;
      const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
      if (!isLoopbackCandidate(c.candidate)) send(k, { type: 'candidate', candidate: c });
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    send(k, { type: 'answer', sdp: answerCandidates(pc.localDescription.sdp, { loopback: false, hideHost: false }) });
  } else if (msg.type === 'answer') {
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
  } else if (msg.type === 'candidate') {
    if (!remoteSet) return void pending.push(msg.candidate);
    await pc.addIceCandidate(msg.candidate).catch(() => undefined);
    return;
  }
  remoteSet = true;
  for (const c of pending.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
}

let idleSince = Date.now();
const tick = async () => {
  if (existsSync(join(dir, `prepare-${trial + 1}.json`))) {
    await prepare(trial + 1);
    idleSince = Date.now();
  } else if (Date.now() - idleSince > IDLE_LIMIT_MS) {
    process.exit(0);
  }
  for (let msg = reader?.next(); msg !== undefined; msg = reader?.next()) await onMessage(trial, msg);
  setTimeout(() => tick().catch(fail), POLL_MS);
};
const fail = (err) => {
  process.stderr.write(`set-up race host: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
process.on('SIGTERM', () => {
  pc?.close();
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
tick().catch(fail);
