/**
 * The baseline peer of the P2P rows, for benchmarks only (never part of the
 * agent): a child process with its own @roamhq/wrtc peer connection that
 * answers the bench's offer over IPC and serves the raw data channel it opens,
 * so the bench measures a bare data channel between two Node processes with
 * wrtc, as the protocol's channel runs between the viewer and the agent's host.
 * The viewer's channel sends the text commands of raw-serve.mjs ("ping:",
 * "bulk:" answered in 16 KiB messages, "up:").
 *
 * Signaling: a WebSocket server on 127.0.0.1 (port printed as the first
 * stdout line, {"event":"ready","port":N}) speaking the viewer side of the
 * tunnel server's signaling: {type:'hello'} on connect, then the viewer's
 * offer and trickled ice-candidates, answered with {type:'answer', sdp} (ICE
 * gathered first: no trickle back). One peer connection per socket.
 * Usage: node scripts/bench/lib/raw-host.mjs
 */
import { createRequire } from 'node:module';
import { WEBRTC_MODULE } from './config.mjs';
import { gathered, serveRawBench } from './raw-serve.mjs';

const require = createRequire(import.meta.url);
const { closePeer, createPeerConnection } = require(WEBRTC_MODULE);
const { WebSocketServer } = require('ws');

/** Largest signaling message (an SDP is a few KiB). */
const MAX_SIGNAL_BYTES = 64 * 1024;

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
