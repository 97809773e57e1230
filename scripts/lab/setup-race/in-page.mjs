/**
 * What the set-up race's browser side (browser.mjs) runs in Chromium's page
 * with page.evaluate. Each function is self-contained (serialized into the
 * page); messages leave through the exposed `raceOut(msg)`.
 */

/**
 * Starts one trial and resolves with its marks, ms since it started:
 * `answer` (the agent's answer in: where the page offers), `remote-srflx`
 * (the agent's first public, server-reflexive candidate in: 0 when its offer
 * carried one), `ice` (ICE connected), `dtls` (connection connected), `open`
 * (the channel open at this end) and `echo` (a first message's echo back: the
 * channel usable both ways, as Wingman's HELLO needs). `viewer-offers` and
 * `gathered-only`: a peer connection made as the shell makes it (ordered channel, receive-only video
 * section), its offer and candidates sent; `agent-offers`: the agent's offer
 * `sdp` (its candidates in it) applied, the answer and candidates sent.
 * @param {{ design: string, sdp?: string, stunUrls: string[], timeoutMs: number }} args
 */
export function raceStart({ design, sdp, stunUrls, timeoutMs }) {
  const w = /** @type {any} */ (globalThis);
  w.racePc?.close();
  const t0 = performance.now();
  /** @type {Record<string, number>} */
  const marks = {};
  const mark = (/** @type {string} */ n) => {
    if (!(n in marks)) marks[n] = Math.round(performance.now() - t0);
  };
  const pc = new RTCPeerConnection({ iceServers: [{ urls: stunUrls }] });
  w.racePc = pc;
  w.raceMark = mark;
  if (/ typ srflx /.test(sdp ?? '')) mark('remote-srflx');
  w.raceRemoteSet = false;
  w.racePending = [];
  pc.onicecandidate = (e) => {
    if (e.candidate) w.raceOut({ type: 'candidate', candidate: e.candidate.toJSON() });
  };
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'connected') mark('ice');
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'connected') mark('dtls');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no echo within ${timeoutMs} ms (marks ${JSON.stringify(marks)})`)), timeoutMs);
    const onOpen = (/** @type {RTCDataChannel} */ dc) => {
      mark('open');
      dc.onmessage = () => {
        mark('echo');
        clearTimeout(timer);
        resolve(marks);
      };
      dc.send('ping');
    };
    const fail = (/** @type {Error} */ err) => {
      clearTimeout(timer);
      reject(err);
    };
    if (design !== 'agent-offers') {
      const dc = pc.createDataChannel('race', { ordered: true });
      dc.onopen = () => onOpen(dc);
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.setLocalDescription()
        .then(() => w.raceOut({ type: 'offer', sdp: pc.localDescription?.sdp ?? '' }))
        .catch(fail);
    } else {
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        if (dc.readyState === 'open') onOpen(dc);
        else dc.onopen = () => onOpen(dc);
      };
      pc.setRemoteDescription({ type: 'offer', sdp: sdp ?? '' })
        .then(() => {
          w.raceRemoteSet = true;
          return pc.setLocalDescription();
        })
        .then(() => w.raceOut({ type: 'answer', sdp: pc.localDescription?.sdp ?? '' }))
        .catch(fail);
    }
  });
}

/**
 * One message from the agent's side: its answer or a candidate.
 * @param {{ type: string, sdp?: string, candidate?: RTCIceCandidateInit }} msg
 */
export async function raceDeliver(msg) {
  const w = /** @type {any} */ (globalThis);
  const pc = /** @type {RTCPeerConnection} */ (w.racePc);
  if (msg.type === 'answer') w.raceMark('answer');
  if (msg.type === 'candidate' && / typ srflx /.test(msg.candidate?.candidate ?? '')) w.raceMark('remote-srflx');
  if (msg.type === 'answer') {
    await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp ?? '' });
    w.raceRemoteSet = true;
    for (const c of w.racePending.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
  } else if (msg.type === 'candidate') {
    if (!w.raceRemoteSet) w.racePending.push(msg.candidate);
    else await pc.addIceCandidate(msg.candidate).catch(() => undefined);
  }
}
