#!/usr/bin/env node
/**
 * The agent's side of the lab's bulk floor (bulk-floor/index.mjs), run in the
 * dev namespace: bare @roamhq/wrtc peer connections, made as the agent's P2P
 * host makes them (packages/relay-server's webrtc module, the lab's STUN
 * server), each serving its data channels with raw-serve.mjs in messages of
 * the agent's default size (DATA_CHANNEL_DEFAULT_MESSAGE_BYTES). No Wingman
 * protocol, no agent.
 *
 * Signaling through files in <dir> (the namespaces share one file system):
 * the browser side writes `offer-<k>.json` ({ sdps: string[] }, ICE gathered,
 * k = 0, 1, …); this answers every offer of it in `answer-<k>.json` (ICE
 * gathered), closing the peer connections of offer k-1 first.
 * Usage: node host.mjs <dir> <stun url,…>
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROTOCOL_MODULE, WEBRTC_MODULE } from '../../bench/lib/config.mjs';
import { gathered, serveRawBench } from '../../bench/lib/raw-serve.mjs';

const require = createRequire(import.meta.url);
const { DATA_CHANNEL_DEFAULT_MESSAGE_BYTES } = require(PROTOCOL_MODULE);
const { createPeerConnection } = require(WEBRTC_MODULE);

/** How often the directory is looked at for the next offer. */
const POLL_MS = 20;
/** The whole floor takes a minute or two; the host ends itself after this without an offer. */
const IDLE_LIMIT_MS = 600_000;
/** Most peer connections one offer may ask for. */
const MAX_PEERS = 8;

const [dir, stun = ''] = process.argv.slice(2);
if (!dir) throw new Error('usage: host.mjs <dir> <stun url,…>');
const iceServers = stun ? [{ urls: stun.split(',') }] : [];

/** @type {any[]} */
let open = [];

async function answer(k) {
  const { sdps } = JSON.parse(readFileSync(join(dir, `offer-${k}.json`), 'utf8'));
  if (!Array.isArray(sdps) || sdps.length < 1 || sdps.length > MAX_PEERS) throw new Error(`offer ${k}: 1-${MAX_PEERS} SDPs expected`);
  for (const pc of open.splice(0)) pc.close();
  const answers = await Promise.all(
    sdps.map(async (sdp) => {
      const pc = createPeerConnection({ iceServers });
      open.push(pc);
      pc.ondatachannel = (ev) => serveRawBench(ev.channel, { messageBytes: DATA_CHANNEL_DEFAULT_MESSAGE_BYTES });
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      return pc.localDescription.sdp;
    }),
  );
  const file = join(dir, `answer-${k}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify({ sdps: answers }));
  renameSync(`${file}.tmp`, file);
}

let next = 0;
let idleSince = Date.now();
const tick = async () => {
  if (existsSync(join(dir, `offer-${next}.json`))) {
    await answer(next);
    next++;
    idleSince = Date.now();
  } else if (Date.now() - idleSince > IDLE_LIMIT_MS) {
    process.exit(0);
  }
  setTimeout(() => tick().catch(fail), POLL_MS);
};
const fail = (err) => {
  process.stderr.write(`bulk floor host: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
process.on('SIGTERM', () => {
  for (const pc of open) pc.close();
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`);
tick().catch(fail);
