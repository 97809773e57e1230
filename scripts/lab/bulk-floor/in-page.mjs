/**
 * Functions the bulk floor's browser side (browser.mjs) runs in Chromium's
 * page with page.evaluate: raw RTCPeerConnections and data channels, made as
 * the shell makes them (ordered channels, a receive-only video section:
 * packages/browser-client/src/page/peer-connection.ts), one channel each, and
 * the transfers over them. Each is self-contained (serialized into the page).
 */

/**
 * Closes the previous peer connections, makes `n` new ones and returns their
 * offers with ICE gathered (at most `gatherMs`).
 * @param {{ n: number, stunUrls: string[], gatherMs: number }} args
 */
export async function floorOffer({ n, stunUrls, gatherMs }) {
  const w = /** @type {any} */ (globalThis);
  for (const pc of w.floorPcs ?? []) pc.close();
  w.floorPcs = [];
  w.floorDcs = [];
  for (let i = 0; i < n; i++) {
    const pc = new RTCPeerConnection({ iceServers: [{ urls: stunUrls }] });
    const dc = pc.createDataChannel('floor', { ordered: true });
    dc.binaryType = 'arraybuffer';
    pc.addTransceiver('video', { direction: 'recvonly' });
    w.floorPcs.push(pc);
    w.floorDcs.push(dc);
  }
  return Promise.all(
    w.floorPcs.map(async (/** @type {RTCPeerConnection} */ pc) => {
      await pc.setLocalDescription();
      if (pc.iceGatheringState !== 'complete')
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, gatherMs);
          pc.addEventListener('icegatheringstatechange', () => {
            if (pc.iceGatheringState !== 'complete') return;
            clearTimeout(timer);
            resolve(undefined);
          });
        });
      return pc.localDescription?.sdp ?? '';
    }),
  );
}

/**
 * Applies the answers and waits for every channel to open (at most `timeoutMs`).
 * @param {{ sdps: string[], timeoutMs: number }} args
 */
export async function floorAnswer({ sdps, timeoutMs }) {
  const w = /** @type {any} */ (globalThis);
  await Promise.all(
    w.floorPcs.map((/** @type {RTCPeerConnection} */ pc, /** @type {number} */ i) => pc.setRemoteDescription({ type: 'answer', sdp: sdps[i] })),
  );
  await Promise.all(
    w.floorDcs.map(
      (/** @type {RTCDataChannel} */ dc) =>
        new Promise((resolve, reject) => {
          if (dc.readyState === 'open') return resolve(undefined);
          const timer = setTimeout(() => reject(new Error(`a data channel did not open within ${timeoutMs} ms`)), timeoutMs);
          dc.addEventListener('open', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        }),
    ),
  );
}

/**
 * `bytes` from the far end, split evenly over the channels (each asked its
 * share with "bulk:<n>" at once); ms to the last channel's "done".
 * @param {{ bytes: number, timeoutMs: number }} args
 */
export async function floorDown({ bytes, timeoutMs }) {
  const dcs = /** @type {RTCDataChannel[]} */ (/** @type {any} */ (globalThis).floorDcs);
  let got = 0;
  const t0 = performance.now();
  await Promise.all(
    dcs.map(
      (dc, i) =>
        new Promise((resolve, reject) => {
          const share = Math.floor(bytes / dcs.length) + (i === 0 ? bytes % dcs.length : 0);
          const timer = setTimeout(() => reject(new Error(`download: ${got} of ${bytes} bytes within ${timeoutMs} ms`)), timeoutMs);
          const onMessage = (/** @type {MessageEvent} */ ev) => {
            if (typeof ev.data !== 'string') got += ev.data.byteLength;
            else if (ev.data === 'done') {
              dc.removeEventListener('message', onMessage);
              clearTimeout(timer);
              resolve(undefined);
            }
          };
          dc.addEventListener('message', onMessage);
          dc.send(`bulk:${share}`);
        }),
    ),
  );
  return { ms: performance.now() - t0, bytes: got };
}

/**
 * `bytes` to the far end, split evenly over the channels, each sent in
 * `messageBytes` messages while its bufferedAmount is under `highWater`
 * (resumed on bufferedamountlow at a quarter of it, as the protocol's
 * data-channel transport does); ms to the last channel's "got".
 * @param {{ bytes: number, messageBytes: number, highWater: number, timeoutMs: number }} args
 */
export async function floorUp({ bytes, messageBytes, highWater, timeoutMs }) {
  const dcs = /** @type {RTCDataChannel[]} */ (/** @type {any} */ (globalThis).floorDcs);
  const block = new Uint8Array(messageBytes);
  const t0 = performance.now();
  await Promise.all(
    dcs.map(
      (dc, i) =>
        new Promise((resolve, reject) => {
          let left = Math.floor(bytes / dcs.length) + (i === 0 ? bytes % dcs.length : 0);
          const timer = setTimeout(() => reject(new Error(`upload: ${left} bytes left on a channel after ${timeoutMs} ms`)), timeoutMs);
          dc.bufferedAmountLowThreshold = highWater / 4;
          const onMessage = (/** @type {MessageEvent} */ ev) => {
            if (typeof ev.data !== 'string' || !ev.data.startsWith('got:')) return;
            dc.removeEventListener('message', onMessage);
            dc.removeEventListener('bufferedamountlow', pump);
            clearTimeout(timer);
            resolve(undefined);
          };
          const pump = () => {
            while (left > 0 && dc.bufferedAmount < highWater) {
              const n = Math.min(left, messageBytes);
              dc.send(n === messageBytes ? block : block.subarray(0, n));
              left -= n;
            }
          };
          dc.addEventListener('message', onMessage);
          dc.addEventListener('bufferedamountlow', pump);
          dc.send(`up:${left}`);
          pump();
        }),
    ),
  );
  return { ms: performance.now() - t0 };
}
