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
 * channel usable both ways, as Wingman's HELLO needs). `viewer-offers`: a
 * peer connection made as the shell makes it (ordered channel, receive-only
 * video section), its offer and candidates sent; `agent-offers`: the agent's offer
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
  // `resume`: the certificate kept since resumePrepare, so the fingerprint the agent answered holds.
  const pc = new RTCPeerConnection({ iceServers: [{ urls: stunUrls }], ...(design === 'resume' ? { certificates: [w.raceCert] } : {}) });
  w.racePc = pc;
  w.raceMark = mark;
  if (/ typ srflx /.test(sdp ?? '')) mark('remote-srflx');
  w.raceRemoteSet = false;
  w.racePending = [];
  pc.onicecandidate = (e) => {
    if (!e.candidate) return;
    const c = e.candidate.toJSON();
    // `resume`: each host candidate's public twin first (the NATs keep the source port, and the
    // page knows its public address from before the reload): the agent's NAT lets the agent's
    // checks out to it without waiting for the page's STUN round trip.
    const host = / 1 udp \d+ (\S+) (\d+) typ host/.exec(c.candidate ?? '');
    if (design === 'resume' && host && w.racePublicIp && host[1] !== w.racePublicIp)
      w.raceOut({
        type: 'candidate',
        candidate: { ...c, candidate: `candidate:p1 1 udp 1694498815 ${w.racePublicIp} ${host[2]} typ srflx raddr 0.0.0.0 rport 0 generation 0` },
      });
    w.raceOut({ type: 'candidate', candidate: c });
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
    if (design === 'resume') {
      // No signaling before the channel: the kept certificate, the prepared offer's ICE
      // credentials (the new offer's replaced by them) and the agent's answer made ahead.
      // Only the page's candidates go out, for the agent's NAT to let its checks through.
      const dc = pc.createDataChannel('race', { negotiated: true, id: 0, ordered: true });
      dc.onopen = () => onOpen(dc);
      const prepared = /** @type {string} */ (w.raceResumeSdp);
      const cred = (/** @type {string} */ name) => prepared.match(new RegExp(`a=${name}:(\\S+)`))?.[1] ?? '';
      pc.createOffer()
        .then((offer) =>
          pc.setLocalDescription({
            type: 'offer',
            sdp: (offer.sdp ?? '').replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${cred('ice-ufrag')}`).replace(/a=ice-pwd:\S+/g, `a=ice-pwd:${cred('ice-pwd')}`),
          }),
        )
        .then(() => pc.setRemoteDescription({ type: 'answer', sdp: sdp ?? '' }))
        .then(() => {
          w.raceRemoteSet = true;
        })
        .catch(fail);
    } else if (design !== 'agent-offers') {
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
 * The `resume` design's preparation, before the trial's clock (as a page
 * would do it over its live channel, before a reload): a certificate kept
 * for the next peer connection (a page would keep it in IndexedDB), and the
 * offer that connection will make, ICE credentials included, for the agent
 * to answer ahead. The connection that made the offer is closed.
 * @param {{ stunUrls: string[] }} args
 * @returns {Promise<string>} the offer's SDP
 */
export async function resumePrepare({ stunUrls }) {
  const w = /** @type {any} */ (globalThis);
  w.racePc?.close();
  w.raceCert ??= await RTCPeerConnection.generateCertificate(/** @type {any} */ ({ name: 'ECDSA', namedCurve: 'P-256' }));
  const pc = new RTCPeerConnection({ iceServers: [{ urls: stunUrls }], certificates: [w.raceCert] });
  pc.createDataChannel('race', { negotiated: true, id: 0, ordered: true });
  const offer = await pc.createOffer();
  // Its public address, as the live connection before a reload would have shown it (its srflx candidate).
  const publicIp = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 3000);
    pc.onicecandidate = (e) => {
      const m = / udp \d+ (\S+) \d+ typ srflx /.exec(e.candidate?.candidate ?? '');
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
  });
  await pc.setLocalDescription(offer);
  w.racePublicIp = await publicIp;
  pc.close();
  w.raceResumeSdp = offer.sdp ?? '';
  return w.raceResumeSdp;
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
