/**
 * A P2P host process, forked by isolated-peer-host.ts, one per P2P viewer
 * (per-viewer-hosts.ts): it holds all @roamhq/wrtc touches and serves P2P
 * streams with its own forwarder, so a native crash costs its viewer the
 * channel, never the agent. An exception in one exchange fails that exchange
 * only (exchange-guard.ts, upstream-socket.ts); one that belongs to no
 * exchange ends the process. Talks over IPC only (host-ipc.ts); exits on
 * `close` or when the channel to the agent closes.
 */
import { DATA_CHANNEL_MAX_MESSAGE_BYTES, MAX_FRAME_BYTES } from '@wingman/protocol';
import { createForwarder, type Forwarder } from '../forward';
import { createClaimClient } from './claim-client';
import { MAX_HOST_BATCH, parseToHost, type FromHost, type HostBatch, type HostInit, type PerExchange } from './host-ipc';
import { createPeerHost, type PeerHost } from './peer-host';
import { PublicAddressMemory, stunOnly } from './predicted-candidate';
import { learnPublicAddress, warmUpWebRtc } from './webrtc';

/** After `close`, the exit comes this long later at the latest. */
const EXIT_AFTER_CLOSE_MS = 2_000;

function post(m: FromHost | HostBatch): void {
  // The agent may be gone mid-send; the 'disconnect' handler ends this process.
  if (process.connected) process.send?.(m, undefined, {}, () => undefined);
}

/** Per-exchange messages (request lines, captures) of 20 ms go as one IPC message: one each cost the agent ~60 µs more per small exchange. */
const BATCH_WAIT_MS = 20;
let pending: PerExchange[] = [];

function flush(): void {
  if (pending.length === 0) return;
  const messages = pending;
  pending = [];
  post(messages.length === 1 ? messages[0]! : { t: 'batch', messages });
}

/** Per-exchange messages wait for the batch; others go at once, after those (order kept). */
function send(m: FromHost): void {
  if (m.t === 'request' || m.t === 'capture') {
    if (pending.length === 0) setTimeout(flush, BATCH_WAIT_MS);
    pending.push(m);
    if (pending.length >= MAX_HOST_BATCH) flush();
    return;
  }
  flush();
  post(m);
}

let host: PeerHost | undefined;
let forwarder: Forwarder | undefined;
/** Answered by the agent's record (forward/exchange-record.ts), which outlives this process. */
const claims = createClaimClient(send);

function start(init: HostInit): void {
  forwarder = createForwarder({
    ...init.forward,
    onRequest: (entry) => send({ t: 'request', entry }),
    exchanges: claims,
    ...(init.captureBodyLimitBytes !== undefined
      ? { capture: { bodyLimitBytes: init.captureBodyLimitBytes, onCapture: (c) => send({ t: 'capture', capture: c }) } }
      : {}),
  });
  // WINGMAN_P2P_PREDICTED_CANDIDATES=false: only gathered candidates go to viewers (predicted-candidate.ts).
  const predict = process.env.WINGMAN_P2P_PREDICTED_CANDIDATES !== 'false';
  const publicAddress = new PublicAddressMemory();
  host = createPeerHost({
    ...init,
    publicAddress,
    predictPublicCandidates: predict,
    handleStream: forwarder.handleStream,
    sendSignal: (viewerId, message) => send({ t: 'signal', viewerId, message }),
    report: (report) => send({ t: 'report', report }),
    onRtt: (viewerId, rttMs) => send({ t: 'rtt', viewerId, rttMs }),
    onUntrusted: (event) => send({ t: 'untrusted', event }),
    wsMaxMessageBytes: init.forward.wsMaxMessageBytes,
    // WINGMAN_P2P_HOST_CANDIDATES=false: viewers never learn this machine's addresses (candidates.ts).
    hideHostCandidates: process.env.WINGMAN_P2P_HOST_CANDIDATES === 'false',
    ...maxMessageBytesFromEnv(process.env.WINGMAN_P2P_MAX_MESSAGE_BYTES),
  });
  send({ t: 'ready' });
  // Before any viewer offers: the first answer is as quick as later ones, and carries the prediction (webrtc.ts).
  void warmUpWebRtc().then(() => (predict ? learnPublicAddress(publicAddress, stunOnly(init.iceServers ?? [])) : undefined));
}

/** WINGMAN_P2P_MAX_MESSAGE_BYTES (inherited): the data-channel message cap, 16–256 KiB, for tuning; a bad value is reported and ignored. */
function maxMessageBytesFromEnv(raw: string | undefined): { maxMessageBytes?: number } {
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (Number.isInteger(n) && n >= MAX_FRAME_BYTES && n <= DATA_CHANNEL_MAX_MESSAGE_BYTES) return { maxMessageBytes: n };
  process.stderr.write(`wingman p2p: ignoring WINGMAN_P2P_MAX_MESSAGE_BYTES=${raw} (want an integer ${MAX_FRAME_BYTES} … ${DATA_CHANNEL_MAX_MESSAGE_BYTES})\n`);
  return {};
}

/** Viewers see their channels close and use the relay. */
function stop(): void {
  claims.closeAll();
  host?.close();
  forwarder?.close();
  host = undefined;
  forwarder = undefined;
  setTimeout(() => process.exit(0), EXIT_AFTER_CLOSE_MS).unref();
}

process.on('message', (raw) => {
  const m = parseToHost(raw);
  if (m?.t === 'init' && !host) start(m);
  else if (m?.t === 'signal') host?.handleSignal(m.viewerId, m.message);
  else if (m?.t === 'viewer-left') host?.viewerLeft(m.viewerId);
  else if (m?.t === 'close-peer') host?.closePeer(m.viewerId, m.reason);
  else if (m?.t === 'ice-servers') host?.setIceServers(m.iceServers);
  else if (m?.t === 'trust') host?.setTrust(m.trust);
  else if (m?.t === 'claimed') claims.answered(m.seq, m.won);
  else if (m?.t === 'close') {
    stop();
    flush();
    process.disconnect?.();
  }
});
// The agent is gone (exit, crash, kill).
process.on('disconnect', stop);
// wrtc keeps native handles alive; the exit above is what ends the process.
