/**
 * The Node P2P viewer (packages/relay-server/src/viewer/p2p-viewer.ts, as
 * built in dist/) in a process of its own, driven over IPC by
 * test/helpers/p2p-viewer-process.ts: @roamhq/wrtc can crash its process
 * natively, and here that ends this process, not jest.
 *
 * From the parent: { id, op, args }. To it: { id, ok: true, value } or
 * { id, ok: false, error: { name, message, code } } for each request, and
 * unasked events { event, ... } (a connection closed, a stream's head,
 * message or end, a send on the recorded channel). The IPC channel uses the
 * 'advanced' serialization: Buffers cross as they are.
 *
 * The viewer's connection is named 0; streams and responses kept for later
 * reads by refs the parent chooses, so that their events can never arrive
 * before the parent knows them.
 */
'use strict';
const { createHash } = require('node:crypto');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const { connectP2PViewer } = require(join(ROOT, 'packages/relay-server/dist/viewer/p2p-viewer.js'));
const { requestOver } = require(join(ROOT, 'packages/relay-server/dist/viewer/request.js'));
const { decodeFrames, FrameType } = require(join(ROOT, 'packages/protocol/dist/index.js'));
const { tailProbeMessage } = require(join(ROOT, 'packages/protocol/dist/transports/tail-probe.js'));

/** @type {any} the P2PViewer, once connected */
let viewer;
const connectionIds = new Map();
/** Every connection named so far, by id (closed ones stay). */
const connections = [];
/** Responses whose body the parent reads later, by ref. */
const responses = new Map();
/** Streams the parent drives (raw streams and kept responses' streams), by ref. */
const streams = new Map();
/** What the first channel carried since watchChannel. */
let watched;
/** Frames the first channel delivered since recordFrames, in order. */
let arrived;

function emit(message) {
  if (process.connected) process.send(message);
}

function errorOf(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) };
}

function connected() {
  if (!viewer) throw new Error('the viewer is not connected');
  return viewer;
}

/** The id of a connection of the viewer; a connection named for the first time reports its close. */
function idOf(conn) {
  let id = connectionIds.get(conn);
  if (id !== undefined) return id;
  id = connections.length;
  connectionIds.set(conn, id);
  connections.push(conn);
  conn.on('close', (err) => emit({ event: 'connection-close', connection: id, ...(err ? { error: errorOf(err) } : {}) }));
  return id;
}

function connectionInfo(conn) {
  return { id: idOf(conn), isClosed: conn.isClosed };
}

function headOf(r) {
  return { status: r.status, headers: r.headers, streamId: r.stream.id };
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a kept response's body to its end: its length and SHA-256, pausing `pauseMs` each time `pauseEveryBytes` more arrived. */
async function drain(record, { pauseEveryBytes, pauseMs } = {}) {
  const h = createHash('sha256');
  let length = 0;
  for (;;) {
    const x = await record.iterator.next();
    if (x.done) break;
    h.update(x.value);
    length += x.value.length;
    record.bytes += x.value.length;
    if (pauseEveryBytes && record.bytes % pauseEveryBytes < x.value.length) await delay(pauseMs ?? 0);
  }
  record.done = true;
  return { length, sha256: h.digest('hex') };
}

function kept(ref) {
  const record = responses.get(ref);
  if (!record) throw new Error(`no response ${ref}`);
  return record;
}

function streamOf(ref) {
  const stream = streams.get(ref);
  if (!stream) throw new Error(`no stream ${ref}`);
  return stream;
}

/** One request: its head, and its whole body, its digest, or nothing yet (`keep`: read later by ref). */
async function request({ req, read, ref }) {
  const r = await requestOver(connected().connection, { method: req.method ?? 'GET', target: req.target, headers: req.headers ?? [], body: req.body });
  const head = headOf(r);
  if (read === 'keep') {
    responses.set(ref, { response: r, iterator: r.chunks()[Symbol.asyncIterator](), bytes: 0, done: false });
    streams.set(ref, r.stream);
    return head;
  }
  if (read === 'sha256') {
    const d = await drain({ iterator: r.chunks()[Symbol.asyncIterator](), bytes: 0, done: false });
    return { ...head, ...d };
  }
  return { ...head, body: await r.bytes() };
}

const ops = {
  async connect({ options }) {
    if (viewer) throw new Error('already connected');
    // A proxy for signaling, as `wingman fetch --proxy` has one: its http.Agent is made here (IPC carries no Agent).
    const { proxy, ...rest } = options;
    if (proxy) rest.agent = require(join(ROOT, 'packages/relay-server/dist/agent/proxy-agent.js')).createProxyRoute(proxy).agent;
    viewer = await connectP2PViewer(rest);
    idOf(viewer.connection);
    return {
      viewerId: viewer.viewerId,
      verified: viewer.verified,
      fingerprints: viewer.fingerprints ?? null,
      p2p: viewer.p2p,
      connectMs: viewer.connectMs,
    };
  },

  state() {
    const v = connected();
    return {
      connection: connectionInfo(v.connection),
      peerConnection: {
        connectionState: v.peerConnection.connectionState,
        remoteSdp: v.peerConnection.remoteDescription?.sdp ?? '',
        channel: v.channel.readyState,
      },
      droppedSignals: v.droppedSignals,
    };
  },

  /** The selected candidate pair from getStats(): its transport's, else the nominated pair that succeeded; null when none yet. */
  async selectedPair() {
    const stats = await connected().peerConnection.getStats();
    const all = [...stats.values()];
    const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport
      ? stats.get(transport.selectedCandidatePairId)
      : all.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (!pair) return null;
    const end = (id) => {
      const c = stats.get(id);
      return { type: c.candidateType, protocol: c.protocol, address: c.address ?? c.ip };
    };
    return { local: end(pair.localCandidateId), remote: end(pair.remoteCandidateId) };
  },

  request,

  /** Several requests opened in one turn, as a page's burst. */
  requests({ reqs, read }) {
    return Promise.all(reqs.map((req) => request({ req, read })));
  },

  async responseNext({ ref }) {
    const record = kept(ref);
    const x = await record.iterator.next();
    if (x.done) {
      record.done = true;
      return null;
    }
    record.bytes += x.value.length;
    return Buffer.from(x.value);
  },

  async responseBytes({ ref }) {
    const record = kept(ref);
    const parts = [];
    for (let x = await record.iterator.next(); !x.done; x = await record.iterator.next()) {
      record.bytes += x.value.length;
      parts.push(x.value);
    }
    record.done = true;
    return Buffer.concat(parts);
  },

  responseDrain({ ref, pauseEveryBytes, pauseMs }) {
    return drain(kept(ref), { pauseEveryBytes, pauseMs });
  },

  responseProgress({ ref }) {
    const record = kept(ref);
    return { bytes: record.bytes, done: record.done, streamClosed: record.response.stream.closed };
  },

  /** Opens a raw stream (`http` or `ws`); its head, messages and end come to the parent as events. */
  openStream({ ref, kind, head, end }) {
    const conn = connected().connection;
    const stream = conn.open(kind, head, end === undefined ? {} : { end });
    streams.set(ref, stream);
    stream.on('response', (h) => emit({ event: 'stream', ref, type: 'response', status: h.status, headers: h.headers }));
    stream.on('message', (data, text) => emit({ event: 'stream', ref, type: 'message', data: Buffer.from(data), text }));
    stream.on('wsClose', (code, reason) => emit({ event: 'stream', ref, type: 'wsClose', code, reason }));
    stream.on('reset', (err) => emit({ event: 'stream', ref, type: 'reset', code: err.code ?? '', message: err.message }));
    return { streamId: stream.id, connection: idOf(conn) };
  },

  streamSend({ ref, data }) {
    streamOf(ref).sendMessage(data);
  },

  streamCloseWs({ ref, code, reason }) {
    streamOf(ref).closeWs(code, reason);
  },

  streamReset({ ref, code, message }) {
    streamOf(ref).reset(code, message);
  },

  /** From now on: the largest message the channel sends and receives, and how many it receives that are not tail-loss probes. */
  watchChannel() {
    const dc = connected().channel;
    const probe = Buffer.from(tailProbeMessage());
    watched = { largestSent: 0, largestReceived: 0, messages: 0 };
    const send = dc.send.bind(dc);
    dc.send = (data) => {
      watched.largestSent = Math.max(watched.largestSent, data.byteLength);
      send(data);
    };
    dc.addEventListener('message', (ev) => {
      if (ev.data instanceof ArrayBuffer) watched.largestReceived = Math.max(watched.largestReceived, ev.data.byteLength);
      if (!(ev.data instanceof ArrayBuffer && probe.equals(Buffer.from(ev.data)))) watched.messages++;
    });
  },

  watched() {
    if (!watched) throw new Error('watchChannel first');
    return watched;
  },

  /** From now on: every stream frame the channel delivers, in order (a listener beside the connection's). */
  recordFrames() {
    arrived = [];
    connected().channel.addEventListener('message', (ev) => {
      if (!(ev.data instanceof ArrayBuffer)) return;
      try {
        for (const f of decodeFrames(new Uint8Array(ev.data))) if (f.streamId !== 0) arrived.push({ streamId: f.streamId, type: f.type });
      } catch {
        // Not a frame (the channel binding's proof).
      }
    });
  },

  /** Stream `streamId`'s run among the recorded frames: its first DATA frame, its last frame, and how many frames of other streams came between. */
  frameRun({ streamId }) {
    if (!arrived) throw new Error('recordFrames first');
    const first = arrived.findIndex((f) => f.streamId === streamId && f.type === FrameType.DATA);
    const last = arrived.map((f) => f.streamId).lastIndexOf(streamId);
    const between = first < 0 ? 0 : arrived.slice(first, last + 1).filter((f) => f.streamId !== streamId).length;
    return { first, last, between };
  },

  /** From now on, every send on the channel is an event to the parent. */
  recordSends() {
    const dc = connected().channel;
    const send = dc.send.bind(dc);
    dc.send = (data) => {
      emit({ event: 'channel-send', label: dc.label });
      send(data);
    };
  },

  /**
   * One request and, in the turn its body ends, recordSends() and leave():
   * the viewer leaving right after a request, its tail-loss probes still due.
   */
  async requestThenLeave({ req }) {
    const response = await request({ req, read: 'body' });
    ops.recordSends();
    await connected().leave();
    return response;
  },

  leave() {
    return connected().leave();
  },

  close() {
    if (viewer) viewer.close();
  },

  /** For the helper's own test: a line on stderr, then this process kills itself with `signal`. */
  crash({ signal, stderr }) {
    if (stderr) process.stderr.write(`${stderr}\n`);
    process.kill(process.pid, signal);
  },
};

process.on('message', (m) => {
  const { id, op, args } = m;
  let pending;
  try {
    if (!Object.hasOwn(ops, op)) throw new Error(`unknown op ${op}`);
    // Called at once, not in a later turn: a burst's picks and opens happen in the order the requests came.
    pending = Promise.resolve(ops[op](args ?? {}));
  } catch (err) {
    pending = Promise.reject(err);
  }
  pending.then(
    (value) => emit({ id, ok: true, value: value ?? null }),
    (err) => emit({ id, ok: false, error: errorOf(err) }),
  );
});

// Logged, as jest would: a rejection nobody handled inside the viewer is not a reason to end the process.
process.on('unhandledRejection', (err) => process.stderr.write(`unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`));
// The parent is gone (jest ended or died): nothing drives this viewer any more.
process.on('disconnect', () => process.exit(0));
