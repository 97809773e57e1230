/**
 * Preload for the agent in tests that need a channel whose loss probe stays
 * pending (see noLossEchoAgentEnv in stack.ts): loaded with
 * NODE_OPTIONS=--require into the agent and the P2P host process it forks,
 * it makes @roamhq/wrtc refuse to create the negotiated probe channel
 * (label `wingman-loss`), so the agent answers no probe, as an agent without
 * the channel would (relay-server/src/p2p/loss-echo.ts then gives up on it).
 * Every other channel is made as before. Nothing in the agent knows of it.
 */
'use strict';
const onWrtcLoad = require('./on-wrtc-load.cjs');

/** The probe channel's label (protocol/src/transports/loss-probe.ts LOSS_PROBE_LABEL). */
const LOSS_PROBE_LABEL = 'wingman-loss';

onWrtcLoad((wrtc) => {
  const proto = wrtc.RTCPeerConnection.prototype;
  const create = proto.createDataChannel;
  proto.createDataChannel = function createDataChannel(label, init) {
    if (label === LOSS_PROBE_LABEL) throw new Error('no-loss-echo.cjs: no probe channel in this test');
    return create.call(this, label, init);
  };
});
