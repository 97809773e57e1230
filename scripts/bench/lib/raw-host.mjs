/**
 * The baseline peer of the P2P rows, for benchmarks only (never part of the
 * agent): a child process with its own @roamhq/wrtc peer connection that
 * answers the bench's offer over IPC and serves the raw data channel it opens,
 * so the bench measures a bare data channel between two Node processes with
 * wrtc, as the protocol's channel runs between the viewer and the agent's host.
 * The viewer's channel sends text commands:
 *   "ping:<token>"  → answered with the same text (round-trip baseline)
 *   "bulk:<bytes>"  → <bytes> in 16 KiB binary messages with bufferedAmount
 *                      backpressure exactly as the protocol's data-channel
 *                      transport does it (the buffer's real value read only
 *                      when last read + bytes sent since could reach the
 *                      high-water mark: each read is a ~85 µs call into wrtc's
 *                      signaling thread; polled while full), then "done".
 *
 * Signaling: a WebSocket server on 127.0.0.1 (port printed as the first
 * stdout line, {"event":"ready","port":N}) speaking the viewer side of the
 * tunnel server's signaling: {type:'hello'} on connect, then the viewer's
 * offer and trickled ice-candidates, answered with {type:'answer', sdp} (ICE
 * gathered first: no trickle back). One peer connection per socket.
 * Usage: node scripts/bench/lib/raw-host.mjs
 */
import { createRequire } from 'node:module';
import { PROTOCOL_MODULE, WEBRTC_MODULE } from './config.mjs';

const require = createRequire(import.meta.url);
const { DATA_CHANNEL_DRAIN_POLL_MS, MAX_FRAME_BYTES } = require(PROTOCOL_MODULE);
const { closePeer, createPeerConnection } = require(WEBRTC_MODULE);
const { WebSocketServer } = require('ws');

/** Largest bulk the viewer may ask for (bounds the loop). */
const RAW_BENCH_MAX_BYTES = 1024 * 1024 * 1024;
/** Send-buffer high-water mark, as the protocol's data-channel transport (DATA_CHANNEL_HIGH_WATER_BYTES). */
const HIGH_WATER_BYTES = 1024 * 1024;
/** ICE gathering on loopback takes milliseconds; a bound in case it never completes. */
const GATHER_TIMEOUT_MS = 5_000;
/** Largest signaling message (an SDP is a few KiB). */
const MAX_SIGNAL_BYTES = 64 * 1024;

/** @param {any} dc */
function serveRawBench(dc) {
  dc.binaryType = 'arraybuffer';
  dc.bufferedAmountLowThreshold = HIGH_WATER_BYTES / 4;
  const block = new Uint8Array(MAX_FRAME_BYTES).fill(0x5a).buffer;
  // Upper bound of the channel's buffer: the last value read + bytes sent since.
  let bound = 0;
  dc.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') return;
    const [cmd, arg] = ev.data.split(':', 2);
    if (cmd === 'ping') return dc.send(ev.data);
    if (cmd !== 'bulk') return;
    let left = Math.min(Number(arg) || 0, RAW_BENCH_MAX_BYTES);
    let timer;
    const pump = () => {
      timer = undefined;
      try {
        while (left > 0 && dc.readyState === 'open') {
          if (bound >= HIGH_WATER_BYTES) bound = dc.bufferedAmount;
          if (bound >= HIGH_WATER_BYTES) {
            // wrtc never fires bufferedamountlow: poll, as the protocol's data-channel transport does.
            timer ??= setTimeout(pump, DATA_CHANNEL_DRAIN_POLL_MS);
            return;
          }
          const n = Math.min(left, MAX_FRAME_BYTES);
          dc.send(n === MAX_FRAME_BYTES ? block : block.slice(0, n));
          bound += n;
          left -= n;
        }
        if (left === 0 && dc.readyState === 'open') {
          left = -1;
          dc.send('done');
        }
      } catch (err) {
        left = -1;
        process.stderr.write(`raw bench host: send failed (${err instanceof Error ? err.message : String(err)})\n`);
      }
    };
    pump();
  });
}

/** Resolves once ICE gathering completed (or GATHER_TIMEOUT_MS passed: what was gathered goes). */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.onicecandidate = (ev) => {
      if (!ev.candidate) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX_SIGNAL_BYTES });
wss.on('connection', (ws) => {
  const pc = createPeerConnection({ iceServers: [] });
  const channels = [];
  pc.ondatachannel = (ev) => {
    channels.push(ev.channel);
    serveRawBench(ev.channel);
  };
  let remoteSet = false;
  const pending = [];
  const fail = (err) => {
    process.stderr.write(`raw bench host: signaling failed (${err instanceof Error ? err.message : String(err)})\n`);
    ws.close();
  };
  ws.on('message', (data) => {
    let m;
    try {
      m = JSON.parse(String(data));
    } catch (err) {
      return fail(err);
    }
    if (m?.type === 'offer' && typeof m.sdp === 'string') {
      (async () => {
        await pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
        remoteSet = true;
        for (const c of pending.splice(0)) await pc.addIceCandidate(c);
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        ws.send(JSON.stringify({ type: 'answer', sdp: pc.localDescription.sdp }));
      })().catch(fail);
    } else if (m?.type === 'ice-candidate' && m.candidate) {
      if (remoteSet) pc.addIceCandidate(m.candidate).catch(fail);
      else pending.push(m.candidate);
    }
  });
  ws.on('close', () => closePeer(pc, channels[0]));
  ws.send(JSON.stringify({ type: 'hello' }));
});
wss.on('listening', () => process.stdout.write(`${JSON.stringify({ event: 'ready', port: wss.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
