/**
 * For the agent preloads (throttle-p2p-send.cjs, no-loss-echo.cjs,
 * reordered-loss-echo.cjs): runs
 * `patch(exports)` once, when the process first loads @roamhq/wrtc. wrtc is
 * loaded lazily (relay-server/src/p2p/webrtc.ts), and only by the P2P host
 * process, so the patch applies wherever that is.
 */
'use strict';
const Module = require('node:module');

/** @param {(wrtc: any) => void} patch */
module.exports = function onWrtcLoad(patch) {
  const load = Module._load;
  let patched = false;
  Module._load = function loadAndPatch(request, ...rest) {
    const exports = load.call(this, request, ...rest);
    if (!patched && request === '@roamhq/wrtc') {
      patched = true;
      patch(exports);
    }
    return exports;
  };
};
