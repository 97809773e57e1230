/**
 * Preload for the agent in tests that need a channel whose binding fails
 * after signaling's MACs passed (see wrongBindProofAgentEnv in stack.ts):
 * loaded with NODE_OPTIONS=--require into the agent and the P2P host process
 * it forks, it changes one character of the proof the agent sends as its
 * channel's first message (protocol trust/channel-binding.ts), as an end
 * that holds the link key but sits on another DTLS association would send
 * one that does not match. Every other message leaves as it was. Nothing in
 * the agent knows of it.
 */
'use strict';
const onWrtcLoad = require('./on-wrtc-load.cjs');

/** The binding message's start (channel-binding.ts bindMessage). */
const BIND_PREFIX = '{"type":"bind","proof":"';

/** The proof with its first character changed. */
function wrongProof(message) {
  const at = BIND_PREFIX.length;
  const c = message[at];
  return `${message.slice(0, at)}${c === 'A' ? 'B' : 'A'}${message.slice(at + 1)}`;
}

onWrtcLoad((wrtc) => {
  const proto = wrtc.RTCDataChannel.prototype;
  const send = proto.send;
  proto.send = function sendWithWrongProof(m) {
    return send.call(this, typeof m === 'string' && m.startsWith(BIND_PREFIX) ? wrongProof(m) : m);
  };
});
