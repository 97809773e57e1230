/**
 * Preload for the agent in tests that need P2P slower than the relay for
 * small requests on loopback, where both take a few ms (see
 * delayedP2PAgentEnv in stack.ts): loaded with NODE_OPTIONS=--require into
 * the agent and the P2P host process it forks, it holds every message a
 * @roamhq/wrtc data channel of that process sends for DELAY_P2P_SEND_MS
 * before it leaves, in order, as a longer path would. Nothing in the agent
 * knows of it.
 */
'use strict';
const onWrtcLoad = require('./on-wrtc-load.cjs');

const delayMs = Number(process.env.DELAY_P2P_SEND_MS);
if (!(delayMs > 0)) throw new Error(`delay-p2p-send.cjs: DELAY_P2P_SEND_MS must be a positive number, not ${process.env.DELAY_P2P_SEND_MS}`);

onWrtcLoad((wrtc) => {
  const proto = wrtc.RTCDataChannel.prototype;
  const send = proto.send;
  const nativeState = Object.getOwnPropertyDescriptor(proto, 'readyState').get;
  proto.send = function delayedSend(m) {
    // Timers of one delay fire in the order they were set: the messages keep theirs.
    setTimeout(() => {
      if (nativeState.call(this) === 'open') send.call(this, m);
    }, delayMs);
  };
});
