#!/usr/bin/env node
/**
 * Network probes for the delay-line check (delay-check.mjs), run inside lab
 * namespaces:
 *   probe.mjs serve <ip> <port>      TCP listener (accepts, then closes) + UDP echo; prints {"event":"listening"}
 *   probe.mjs measure <json>         TCP connect times and UDP echo round trips/loss; prints {"event":"result",...}
 * measure's JSON: { tcp: { ip, port, count }, udp: { ip, port, count, intervalMs, waitMs } }.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

/** One TCP connect may not take longer than this (a lost SYN is retried after 1 s). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Bounds of the measure config: small on purpose, the check runs in CI. */
const MAX_COUNT = 5_000;
const MAX_WAIT_MS = 30_000;

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'serve') serve(rest[0], Number(rest[1]));
else if (mode === 'measure')
  measure(parseMeasure(rest[0])).then(
    (r) => process.stdout.write(`${JSON.stringify({ event: 'result', ...r })}\n`),
    (err) => {
      process.stdout.write(`${JSON.stringify({ event: 'result', error: String(err?.message ?? err) })}\n`);
      process.exitCode = 1;
    },
  );
else {
  process.stderr.write('usage: probe.mjs serve <ip> <port> | probe.mjs measure <json>\n');
  process.exitCode = 2;
}

function serve(ip, port) {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('bad port');
  const tcp = createServer((s) => s.end());
  const udp = createSocket('udp4');
  udp.on('message', (msg, from) => udp.send(msg, from.port, from.address));
  let up = 0;
  const listening = () => {
    if (++up === 2) process.stdout.write(`${JSON.stringify({ event: 'listening' })}\n`);
  };
  tcp.listen(port, ip, listening);
  udp.bind(port, ip, listening);
  process.on('SIGTERM', () => process.exit(0));
}

function parseMeasure(text) {
  const c = JSON.parse(text ?? '');
  const int = (v, max) => Number.isInteger(v) && v >= 0 && v <= max;
  if (!(int(c.tcp?.count, MAX_COUNT) && int(c.tcp?.port, 65535) && int(c.udp?.count, MAX_COUNT) && int(c.udp?.port, 65535)))
    throw new Error('bad counts or ports');
  if (!(int(c.udp.intervalMs, 1000) && int(c.udp.waitMs, MAX_WAIT_MS))) throw new Error('bad udp timing');
  return c;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function connectOnce(ip, port) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const s = connect({ host: ip, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`TCP connect to ${ip}:${port} took over ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(performance.now() - t);
      s.destroy();
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function measure({ tcp, udp }) {
  const tcpConnectMs = [];
  for (let i = 0; i < tcp.count; i++) tcpConnectMs.push(await connectOnce(tcp.ip, tcp.port));

  const sock = createSocket('udp4');
  const sentAt = new Map();
  const udpRttMs = [];
  sock.on('message', (msg) => {
    const seq = msg.readUInt32BE(0);
    const t = sentAt.get(seq);
    if (t === undefined) return;
    sentAt.delete(seq);
    udpRttMs.push(performance.now() - t);
  });
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, resolve);
  });
  for (let seq = 0; seq < udp.count; seq++) {
    const msg = Buffer.alloc(64);
    msg.writeUInt32BE(seq, 0);
    sentAt.set(seq, performance.now());
    sock.send(msg, udp.port, udp.ip);
    await sleep(udp.intervalMs);
  }
  await sleep(udp.waitMs);
  sock.close();
  return { tcpConnectMs, udp: { sent: udp.count, received: udpRttMs.length, rttMs: udpRttMs } };
}
