#!/usr/bin/env node
/**
 * The reviewer's side of the lab's bulk floor (bulk-floor/index.mjs), run in
 * the reviewer namespace: the lab's headless Chromium, a blank page, and for
 * each count of peer connections asked, raw data channels to host.mjs in the
 * dev namespace (in-page.mjs), then `bytes` down and `bytes` up split evenly
 * over them. Around each transfer it reads the hosts' UDP counters
 * (snmp.mjs: RcvbufErrors) and the CPU of every process in the lab's
 * namespaces (cpu-sample.mjs). Prints one JSON line per count,
 * {"event":"floor", peers, down: {MBps, rcvbufErrors, cpu}, up: {…}}, then
 * {"event":"result"} (with `error` if something failed).
 * Argument: one JSON object { dir, stunUrls, peerCounts, bytes, messageBytes, highWater, hosts: { role: pid } }.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOnBlankPage } from '../chromium.mjs';
import { cpuFigures, cpuSnapshot, netnsOf } from '../cpu-sample.mjs';
import { readSnmp } from '../snmp.mjs';
import { sampleUdpSockets } from '../udp-sockets.mjs';
import { floorAnswer, floorDown, floorOffer, floorUp } from './in-page.mjs';

/** ICE gathering with the STUN server one far-server round trip away. */
const GATHER_MS = 5_000;
/** The agent's answer (ICE gathered) and the channels opening: a few round trips. */
const CONNECT_TIMEOUT_MS = 20_000;
/** One 20 MiB transfer; the slowest the floor has measured is a few MB/s. */
const TRANSFER_TIMEOUT_MS = 120_000;
const POLL_MS = 20;

const config = JSON.parse(process.argv[2] ?? '');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function answerFor(k) {
  const file = join(config.dir, `answer-${k}.json`);
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no answer from the bulk floor's host within ${CONNECT_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
  return JSON.parse(readFileSync(file, 'utf8')).sdps;
}

const links = Object.fromEntries(Object.entries(config.hosts).map(([role, pid]) => [role, netnsOf(pid)]));
/** The peers' sockets are sampled this often during a transfer (a queue fills in tens of ms). */
const SOCKET_SAMPLE_MS = 10;
const PEERS = ['reviewer', 'dev'];
function snapshot(sample) {
  const udp = Object.fromEntries(Object.entries(config.hosts).map(([role, pid]) => [role, readSnmp(pid).udp.RcvbufErrors]));
  const sockets = sample ? Object.fromEntries(PEERS.map((role) => [role, sampleUdpSockets(config.hosts[role], SOCKET_SAMPLE_MS)])) : null;
  return { udp, sockets, cpu: cpuSnapshot(links) };
}
/** Each peer's UDP sockets and their receive buffers (`ss -uam` in its namespace: local port → rb bytes). */
function receiveBuffers() {
  return Object.fromEntries(
    PEERS.map((role) => {
      const text = execFileSync('nsenter', [`--net=/proc/${config.hosts[role]}/ns/net`, 'ss', '-uamnH'], { encoding: 'utf8' });
      const out = {};
      for (const m of text.matchAll(/:(\d+)\s+\S+\s*\n?\s*skmem:\(r\d+,rb(\d+)/g)) out[m[1]] = Number(m[2]);
      return [role, out];
    }),
  );
}
function figures(before, after) {
  return {
    rcvbufErrors: Object.fromEntries(Object.keys(after.udp).map((role) => [role, after.udp[role] - before.udp[role]])),
    sockets: Object.fromEntries(PEERS.map((role) => [role, before.sockets[role].stop()])),
    cpu: cpuFigures(before.cpu, after.cpu),
  };
}

runOnBlankPage('bulk floor browser', async (page) => {
  for (const [k, n] of config.peerCounts.entries()) {
    const line = { event: 'floor', peers: n };
    try {
      const sdps = await page.evaluate(floorOffer, { n, stunUrls: config.stunUrls, gatherMs: GATHER_MS });
      const file = join(config.dir, `offer-${k}.json`);
      writeFileSync(`${file}.tmp`, JSON.stringify({ sdps }));
      renameSync(`${file}.tmp`, file);
      await page.evaluate(floorAnswer, { sdps: await answerFor(k), timeoutMs: CONNECT_TIMEOUT_MS });
      line.receiveBuffers = receiveBuffers();
      for (const dir of ['down', 'up']) {
        const before = snapshot(true);
        try {
          const r =
            dir === 'down'
              ? await page.evaluate(floorDown, { bytes: config.bytes, timeoutMs: TRANSFER_TIMEOUT_MS })
              : await page.evaluate(floorUp, {
                  bytes: config.bytes,
                  messageBytes: config.messageBytes,
                  highWater: config.highWater,
                  timeoutMs: TRANSFER_TIMEOUT_MS,
                });
          if (dir === 'down' && r.bytes !== config.bytes) throw new Error(`download: ${r.bytes} of ${config.bytes} bytes`);
          line[dir] = { MBps: Math.round((config.bytes / 1e6 / (r.ms / 1000)) * 10) / 10, ...figures(before, snapshot(false)) };
        } catch (err) {
          // A transfer that never completes (a stalled association) is a figure too: the next count gets new peer connections.
          line[dir] = { MBps: null, error: err instanceof Error ? err.message : String(err), ...figures(before, snapshot(false)) };
          break;
        }
      }
    } catch (err) {
      line.error = err instanceof Error ? err.message : String(err);
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
});
