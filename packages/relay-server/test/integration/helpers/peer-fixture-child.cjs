/**
 * The child process of peer-fixture.ts: real @roamhq/wrtc peer connections,
 * and P2P hosts (peer-host.ts), all from the built agent (packages/relay-server/dist),
 * driven by the test over Node's IPC channel. Native WebRTC lives here only,
 * so that a crash in it is this process's exit signal, which the test
 * reports, and never the jest process's.
 *
 * Requests: { id, op, args } → { id, ok: true, value } or { id, ok: false, error }.
 * Events, unasked: { event, of, ... }, `of` naming the object (see peer-fixture.ts FixtureEvent).
 * Ends on `close` (everything closed first) or when the test's process is gone.
 */
'use strict';
const { join } = require('node:path');

const DIST = join(__dirname, '..', '..', '..', 'dist');
const { createPeerConnection, closePeer } = require(join(DIST, 'p2p/webrtc.js'));
const { createPeerHost } = require(join(DIST, 'p2p/peer-host.js'));
const { bindDataChannel, BindingError, bindingProof, deriveTrustKeys, linkKeyBytes, sdpFingerprint } = require('@wingman/protocol');

/** After `close`, the exit waits this long so that the peers' closes go out. */
const EXIT_AFTER_CLOSE_MS = 100;

/** Every object the test holds a handle of, by id ("pc1", "dc2", "host3"). */
const objects = new Map();
const idOf = new Map();
let nextId = 1;
function register(kind, object) {
  const id = `${kind}${nextId++}`;
  objects.set(id, object);
  idOf.set(object, id);
  return id;
}
function get(id) {
  const object = objects.get(id);
  if (object === undefined) throw new Error(`no fixture object ${id}`);
  return object;
}

function emit(event) {
  if (process.connected) process.send(event, undefined, {}, () => undefined);
}

/** A candidate's fields as plain JSON, for the IPC channel. */
const candidateJson = (c) => (c ? { candidate: c.candidate, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null } : null);

/** Registers a data channel and reports its readyState as it changes. */
function channel(dc) {
  const id = register('dc', dc);
  dc.addEventListener('open', () => emit({ event: 'dc-state', of: id, state: 'open' }));
  dc.addEventListener('close', () => emit({ event: 'dc-state', of: id, state: 'closed' }));
  return { id, label: dc.label, state: dc.readyState };
}

/** The DTLS transport's state, as the peer connection's stats say. */
async function dtlsState(pc) {
  const stats = await pc.getStats();
  return String([...stats.values()].find((r) => r.type === 'transport')?.dtlsState);
}

const peers = new Set();
const hosts = new Set();

const ops = {
  /** A peer connection; its candidates and the channels it receives become events. */
  'pc.new'(config) {
    const pc = createPeerConnection(config ?? {});
    peers.add(pc);
    const id = register('pc', pc);
    pc.onicecandidate = (ev) => emit({ event: 'icecandidate', of: id, candidate: candidateJson(ev.candidate) });
    pc.ondatachannel = (ev) => emit({ event: 'datachannel', of: id, channel: channel(ev.channel) });
    return id;
  },
  'pc.createDataChannel': (pc, label, init) => channel(get(pc).createDataChannel(label, init ?? {})),
  'pc.addTransceiver'(pc, kind, init) {
    get(pc).addTransceiver(kind, init);
  },
  'pc.createOffer': async (pc) => {
    const { type, sdp } = await get(pc).createOffer();
    return { type, sdp };
  },
  'pc.createAnswer': async (pc) => {
    const { type, sdp } = await get(pc).createAnswer();
    return { type, sdp };
  },
  'pc.setLocalDescription': (pc, description) => get(pc).setLocalDescription(description),
  'pc.setRemoteDescription': (pc, description) => get(pc).setRemoteDescription(description),
  'pc.addIceCandidate': (pc, candidate) => get(pc).addIceCandidate(candidate),
  'pc.descriptions'(pc) {
    const { localDescription: local, remoteDescription: remote } = get(pc);
    return { local: local && { type: local.type, sdp: local.sdp }, remote: remote && { type: remote.type, sdp: remote.sdp } };
  },
  'pc.dtlsState': (pc) => dtlsState(get(pc)),
  /** From now on the peer connection's candidates go straight to a host, in this process, as a viewer's trickled `ice-candidate` signals. */
  'pc.trickleTo'(pc, host, viewerId, index) {
    const h = get(host);
    get(pc).onicecandidate = (ev) => {
      if (ev.candidate?.candidate)
        h.handleSignal(viewerId, { type: 'ice-candidate', ...(index !== undefined ? { pc: index } : {}), candidate: candidateJson(ev.candidate) });
    };
  },
  'pc.close'(pc) {
    closePeer(get(pc));
  },
  /** Resolves when the channel closes, with its peer connection's DTLS state read right then. */
  'dc.dtlsStateAtClose'(dc, pc) {
    return new Promise((resolve, reject) => get(dc).addEventListener('close', () => dtlsState(get(pc)).then(resolve, reject)));
  },
  /** Sends every message `from` receives on through `to`, untouched (a party in the middle). */
  'dc.relayTo'(from, to) {
    const target = get(to);
    get(from).addEventListener('message', (ev) => target.send(ev.data));
  },
  /**
   * Channel binding (docs/PROTOCOL.md §Verified channels) of `dc` as `me`, with the fingerprints its peer
   * connection `pc` sees: 'bound', 'refused' or the error. Once bound, `sendWhenBound` goes out at once and
   * every message the bound channel delivers becomes a `bound-message` event.
   */
  async 'dc.bind'(dc, { pc, me, linkKey, sessionId, sendWhenBound = [] }) {
    const conn = get(pc);
    // Everything asynchronous happens inside proofs(): bindDataChannel must listen before anything can arrive, and the
    // other end's proof may come while this end's keys are still being derived.
    const proofs = async () => {
      const keys = await deriveTrustKeys(linkKeyBytes(linkKey), sessionId);
      const own = sdpFingerprint(conn.localDescription.sdp);
      const other = sdpFingerprint(conn.remoteDescription.sdp);
      const fps = me === 'agent' ? { agent: own, viewer: other } : { agent: other, viewer: own };
      const [mine, expected] = await Promise.all([bindingProof(keys, me, fps), bindingProof(keys, me === 'agent' ? 'viewer' : 'agent', fps)]);
      return { own: mine, expected };
    };
    try {
      const bound = await bindDataChannel(get(dc), proofs);
      for (const bytes of sendWhenBound) bound.send(new Uint8Array(bytes).buffer);
      bound.addEventListener('message', (ev) => emit({ event: 'bound-message', of: dc, data: [...new Uint8Array(ev.data)] }));
      return 'bound';
    } catch (err) {
      return err instanceof BindingError && err.refused ? 'refused' : String(err);
    }
  },
  /** A P2P host whose streams are refused; its signals and reports become events. */
  'host.new'(options) {
    let id;
    const host = createPeerHost({
      handleStream: (stream) => stream.reset('ERR_PROTOCOL', 'not in this test'),
      sendSignal: (viewerId, message) => emit({ event: 'host-signal', of: id, signal: { viewerId, message } }),
      report: (report) => emit({ event: 'host-report', of: id, report }),
      ...options,
    });
    hosts.add(host);
    id = register('host', host);
    return id;
  },
  'host.handleSignal'(host, viewerId, message) {
    get(host).handleSignal(viewerId, message);
  },
  'host.closePeer'(host, viewerId, reason) {
    get(host).closePeer(viewerId, reason);
  },
  'host.peers': (host) => get(host).peers(),
  'host.close'(host) {
    get(host).close();
    hosts.delete(get(host));
  },
  /** Closes everything, then exits. */
  close() {
    for (const host of hosts) host.close();
    for (const pc of peers) closePeer(pc);
    setTimeout(() => process.exit(0), EXIT_AFTER_CLOSE_MS);
  },
};

process.on('message', (m) => {
  const op = ops[m.op];
  const reply = (r) => emit({ id: m.id, ...r });
  if (op === undefined) return reply({ ok: false, error: `unknown fixture op ${m.op}` });
  // Started at once, in the order the requests came: a listener armed by one request is there for the next.
  let result;
  try {
    result = Promise.resolve(op(...m.args));
  } catch (err) {
    result = Promise.reject(err);
  }
  result.then(
    (value) => reply({ ok: true, value: value ?? null }),
    (err) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
// The test's process is gone: so is the reason to run (wrtc's handles would keep this one alive).
process.on('disconnect', () => process.exit(0));
emit({ event: 'ready' });
