/**
 * The P2P host's own process, forked by isolated-peer-host.ts. It holds
 * everything @roamhq/wrtc touches — the peer connections, their data
 * channels' Connections — and serves P2P streams to the local app with its
 * own forwarder, so a native crash in wrtc (seen: SIGSEGV on a send racing a
 * channel's teardown) costs the P2P viewers their channels, which fall back
 * to the relay, and never the agent, its relay session or its URL.
 *
 * No app response ends it: an exception while serving one exchange fails
 * that exchange only, with the error's message (a stream reset, or a 502
 * page when the HTTP client failed before the head), and the others go on
 * (forward/exchange-guard.ts for the forwarder's callbacks,
 * forward/upstream-socket.ts for the HTTP client's socket listeners). An
 * exception that belongs to no exchange (the peers, wrtc) is uncaught and
 * ends the process like a native crash: the agent restarts it.
 *
 * Talks to the agent over the IPC channel only (host-ipc.ts). Exits when the
 * agent says `close` or the channel to it closes (the agent died).
 */
import { DATA_CHANNEL_MAX_MESSAGE_BYTES, MAX_FRAME_BYTES } from '@wingman/protocol';
import { createForwarder, type Forwarder } from '../forward';
import { createClaimClient } from './claim-client';
import { captureToWire, MAX_HOST_BATCH, parseToHost, type FromHost, type HostBatch, type HostInit, type PerExchange } from './host-ipc';
import { createPeerHost, type PeerHost } from './peer-host';
import { warmUpWebRtc } from './webrtc';

/** After `close`, the process exits this long later at the latest (peer teardown is quick). */
const EXIT_AFTER_CLOSE_MS = 2_000;

function post(m: FromHost | HostBatch): void {
  // The agent may be gone mid-send; the 'disconnect' handler ends this process.
  if (process.connected) process.send?.(m, undefined, {}, () => undefined);
}

/** This turn's per-exchange messages, sent together at its end (or once MAX_HOST_BATCH are waiting). */
let pending: PerExchange[] = [];

function flush(): void {
  if (pending.length === 0) return;
  const messages = pending;
  pending = [];
  post(messages.length === 1 ? messages[0]! : { t: 'batch', messages });
}

/** Sends `m`; per-exchange messages wait for the end of the turn, others go at once (after those waiting: the order is kept). */
function send(m: FromHost): void {
  if (m.t === 'request' || m.t === 'capture') {
    if (pending.length === 0) setImmediate(flush);
    pending.push(m);
    if (pending.length >= MAX_HOST_BATCH) flush();
    return;
  }
  flush();
  post(m);
}

let host: PeerHost | undefined;
let forwarder: Forwarder | undefined;
/** Claims on exchanges with an id, answered by the agent's record (forward/exchange-record.ts): it outlives this process. */
const claims = createClaimClient(send);

function start(init: HostInit): void {
  forwarder = createForwarder({
    target: init.target,
    ...(init.routes !== undefined ? { routes: init.routes } : {}),
    hostHeader: init.hostHeader,
    ...(init.headerRules !== undefined ? { headerRules: init.headerRules } : {}),
    ...(init.timeoutMs !== undefined ? { timeoutMs: init.timeoutMs } : {}),
    ...(init.wsMaxMessageBytes !== undefined ? { wsMaxMessageBytes: init.wsMaxMessageBytes } : {}),
    onRequest: (entry) => send({ t: 'request', entry }),
    exchanges: claims,
    // Bodies are already cut to the cap by the tap, so each message stays bounded.
    ...(init.captureBodyLimitBytes !== undefined
      ? { capture: { bodyLimitBytes: init.captureBodyLimitBytes, onCapture: (c) => send({ t: 'capture', capture: captureToWire(c) }) } }
      : {}),
  });
  const fwd = forwarder;
  host = createPeerHost({
    handleStream: (stream, transport, viewerId) => fwd.handleStream(stream, transport, viewerId),
    sendSignal: (viewerId, message) => send({ t: 'signal', viewerId, message }),
    report: (report) => send({ t: 'report', report }),
    onRtt: (viewerId, rttMs) => send({ t: 'rtt', viewerId, rttMs }),
    onUntrusted: (event) => send({ t: 'untrusted', event }),
    ...(init.trust ? { trust: init.trust } : {}),
    iceServers: init.iceServers,
    connectTimeoutMs: init.connectTimeoutMs,
    ...(init.wsMaxMessageBytes !== undefined ? { wsMaxMessageBytes: init.wsMaxMessageBytes } : {}),
    ...(init.maxPeers !== undefined ? { maxPeers: init.maxPeers } : {}),
    ...(init.acceptLoopbackCandidates !== undefined ? { acceptLoopbackCandidates: init.acceptLoopbackCandidates } : {}),
    // WINGMAN_P2P_HOST_CANDIDATES=false: viewers never learn this machine's addresses (candidates.ts).
    hideHostCandidates: process.env.WINGMAN_P2P_HOST_CANDIDATES === 'false',
    ...maxMessageBytesFromEnv(process.env.WINGMAN_P2P_MAX_MESSAGE_BYTES),
  });
  send({ t: 'ready' });
  // Before any viewer offers: the first answer is then as quick as later ones (webrtc.ts).
  void warmUpWebRtc();
}

/**
 * WINGMAN_P2P_MAX_MESSAGE_BYTES (this process inherits the agent's
 * environment): the data-channel message size cap, 16 KiB … 256 KiB. Tuning
 * and benchmarks; a bad value is reported and ignored, never fatal.
 */
function maxMessageBytesFromEnv(raw: string | undefined): { maxMessageBytes?: number } {
  if (raw === undefined || raw === '') return {};
  const n = Number(raw);
  if (Number.isInteger(n) && n >= MAX_FRAME_BYTES && n <= DATA_CHANNEL_MAX_MESSAGE_BYTES) return { maxMessageBytes: n };
  process.stderr.write(`wingman p2p: ignoring WINGMAN_P2P_MAX_MESSAGE_BYTES=${raw} (want an integer ${MAX_FRAME_BYTES} … ${DATA_CHANNEL_MAX_MESSAGE_BYTES})\n`);
  return {};
}

/** Closes the peers (viewers see their channels close and use the relay) and ends the process soon. */
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
  if (!m) return;
  switch (m.t) {
    case 'init':
      if (!host) start(m);
      return;
    case 'signal':
      host?.handleSignal(m.viewerId, m.message);
      return;
    case 'viewer-left':
      host?.viewerLeft(m.viewerId);
      return;
    case 'close-peer':
      host?.closePeer(m.viewerId, m.reason);
      return;
    case 'ice-servers':
      host?.setIceServers(m.iceServers);
      return;
    case 'trust':
      host?.setTrust(m.trust);
      return;
    case 'claimed':
      claims.answered(m.seq, m.won);
      return;
    case 'close':
      stop();
      flush();
      process.disconnect?.();
      return;
  }
});
// The agent is gone (exit, crash, kill): so is the reason to serve.
process.on('disconnect', stop);
// wrtc keeps native handles alive; the exit above is what ends the process.
