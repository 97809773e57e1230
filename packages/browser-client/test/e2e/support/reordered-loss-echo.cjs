/**
 * Preload for the agent in tests whose loss probe must come back out of
 * order (see reorderedLossEchoAgentEnv in stack.ts): loaded with
 * NODE_OPTIONS=--require into the agent and the P2P host process it forks,
 * it holds the echoes of probes 1 and 2 back until probe HELD_UNTIL's echo
 * went, then sends them. The gap rule counts both lost early (a lossy
 * verdict before the end); every probe comes back. Every other channel,
 * and every other echo, is sent as before. Nothing in the agent knows of it.
 */
'use strict';
const onWrtcLoad = require('./on-wrtc-load.cjs');

/** The probe channel's label (protocol/src/transports/loss-probe.ts LOSS_PROBE_LABEL). */
const LOSS_PROBE_LABEL = 'wingman-loss';
/** The probes whose echoes are held back. */
const HELD = new Set([1, 2]);
/** The probe after whose echo the held ones go. */
const HELD_UNTIL = 8;

onWrtcLoad((wrtc) => {
  const proto = wrtc.RTCPeerConnection.prototype;
  const create = proto.createDataChannel;
  proto.createDataChannel = function createDataChannel(label, init) {
    const dc = create.call(this, label, init);
    if (label !== LOSS_PROBE_LABEL) return dc;
    const held = [];
    const send = dc.send;
    dc.send = function sendReordered(data) {
      const bytes = new Uint8Array(data);
      const seq = (bytes[0] << 8) | bytes[1];
      if (HELD.has(seq)) return void held.push(data);
      send.call(dc, data);
      if (seq === HELD_UNTIL) for (const d of held.splice(0)) send.call(dc, d);
    };
    return dc;
  };
});
