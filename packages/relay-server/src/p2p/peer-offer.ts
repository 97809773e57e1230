/** A viewer's offer on the host: admitted within the caps, answered by a new peer connection, candidates both ways (this end's predicted or held back). */
import { announceMaxMessageSize, withListedFormatsOnly, type TrustKeys } from '@wingman/protocol';
import {
  answerCandidates,
  candidateAddress,
  isHostCandidate,
  isLoopbackCandidate,
  MAX_REMOTE_CANDIDATES,
  ownAddresses,
  sdpCandidates,
  unreachableReason,
  withoutCandidates,
  withoutRelatedAddress,
} from './candidates';
import { HostCandidateHold } from './host-candidate-hold';
import { candidateKind, iceCandidateNotAdded, startIceTrace } from './ice-trace';
import { answerLossProbes } from './loss-echo';
import { onChannel } from './peer-channel';
import { closePeerEntry, report, sendCandidate, signal, type HostState, type Peer } from './peer-state';
import { createPeerConnection, type RtcIceCandidateInit } from './webrtc';

/** A host candidate line of the answer that is trickled behind its prediction instead (host-candidate-hold.ts). */
function heldInAnswer(host: HostState, line: string): boolean {
  return host.predict && host.publicAddress.predict({ candidate: line.replace(/^a=/, '') }) !== undefined;
}

/** A viewer's candidate on this agent's own public address: the viewer is behind the same NAT, on its LAN. */
function behindOurAddress(host: HostState, candidate: string): boolean {
  const ours = host.publicAddress.current()?.address;
  return ours !== undefined && candidateAddress(candidate) === ours;
}

function unreachable(host: HostState, candidate: string): boolean {
  return unreachableReason(candidate, host.remotePolicy) !== undefined;
}

export async function onOffer(host: HostState, viewerId: string, offered: string, keys: TrustKeys | undefined): Promise<void> {
  const existing = host.peers.get(viewerId);
  if (existing) closePeerEntry(host, existing, 'closed', 'replaced by a new offer');
  const inOffer = sdpCandidates(offered).length;
  if (!admitted(host, viewerId, inOffer)) return;
  // Read again per offer: a laptop's addresses change as it moves between networks.
  host.remotePolicy.ownAddresses = ownAddresses();
  const sdp = withListedFormatsOnly(withoutCandidates(offered, (c) => unreachable(host, c)));
  const peer = newPeer(host, viewerId, inOffer, keys);
  const { pc, trace } = peer;
  if (sdpCandidates(sdp).some(isLoopbackCandidate)) revealLoopback(host, peer);
  if (sdpCandidates(sdp).some((c) => behindOurAddress(host, c))) peer.hostHold.release();
  await pc.setRemoteDescription({ type: 'offer', sdp });
  peer.remoteDescriptionSet = true;
  for (const c of peer.pendingRemote.splice(0)) await pc.addIceCandidate(c).catch(iceCandidateNotAdded(viewerId));
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  if (peer.closed) return;
  const local = pc.localDescription?.sdp ?? answer.sdp;
  trace('answer');
  signal(host, peer, {
    type: 'answer',
    sdp: announceMaxMessageSize(
      answerCandidates(local, { loopback: peer.remoteLoopback, hideHost: host.hideHost, held: (line) => heldInAnswer(host, line) }),
      host.ownMaxMessageBytes,
    ),
  });
}

/** Within the candidates' cap; else the viewer is told why. The cap on viewers is per-viewer-hosts.ts's: a host process serves one. */
function admitted(host: HostState, viewerId: string, inOffer: number): boolean {
  if (inOffer <= MAX_REMOTE_CANDIDATES) return true;
  host.options.sendSignal(viewerId, { type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` });
  report(host, { viewerId, state: 'failed', reason: 'too many candidates' });
  return false;
}

function newPeer(host: HostState, viewerId: string, inOffer: number, keys: TrustKeys | undefined): Peer {
  const trace = startIceTrace(viewerId);
  trace(`offer (${inOffer} candidates in it)`);
  const pc = createPeerConnection({ iceServers: host.iceServers });
  const peer: Peer = {
    trace,
    viewerId,
    pc,
    remoteCandidates: inOffer,
    lastActivity: Date.now(),
    startedAt: Date.now(),
    connected: false,
    remoteDescriptionSet: false,
    pendingRemote: [],
    remoteLoopback: false,
    heldLoopback: [],
    hostHold: new HostCandidateHold((c) => {
      if (!peer.closed) sendCandidate(host, peer, c);
    }),
    timers: [],
    stops: [],
    closed: false,
    out: Promise.resolve(),
    ...(keys ? { keys } : {}),
  };
  host.peers.set(viewerId, peer);
  peer.timers.push(
    setTimeout(() => {
      if (!peer.connected) closePeerEntry(host, peer, 'failed', `no data channel within ${host.connectTimeoutMs} ms`);
    }, host.connectTimeoutMs),
  );
  pc.onicecandidate = (ev) => {
    if (peer.closed) return;
    if (!ev.candidate) {
      trace('gathering complete');
      return signal(host, peer, { type: 'end-of-candidates' });
    }
    const c = ev.candidate.toJSON ? ev.candidate.toJSON() : ev.candidate;
    if (c.candidate) onLocalCandidate(host, peer, c);
  };
  pc.ondatachannel = (ev) => onChannel(host, peer, ev.channel);
  answerLossProbes(pc);
  pc.oniceconnectionstatechange = () => trace(`ICE ${pc.iceConnectionState}`);
  pc.onconnectionstatechange = () => {
    trace(`connection ${pc.connectionState}`);
    if (pc.connectionState === 'failed') closePeerEntry(host, peer, 'failed', 'ICE failed');
    else if (pc.connectionState === 'closed') closePeerEntry(host, peer, 'closed', 'peer connection closed');
  };
  return peer;
}

/** Sent, sent behind its predicted public twin, or held back (loopback, hidden host). */
function onLocalCandidate(host: HostState, peer: Peer, c: RtcIceCandidateInit): void {
  peer.trace(`local candidate ${candidateKind(c.candidate)}`);
  host.publicAddress.observe(c.candidate);
  // The page may check the public candidate a round trip to the STUN server before it is gathered.
  const guess = host.predict ? host.publicAddress.predict(c) : undefined;
  if (guess) peer.trace(`local candidate ${candidateKind(guess.candidate)} predicted`);
  if (host.hideHost) {
    if (!isHostCandidate(c.candidate)) sendCandidate(host, peer, { ...c, candidate: withoutRelatedAddress(c.candidate) });
    if (guess) sendCandidate(host, peer, guess);
    return;
  }
  if (isLoopbackCandidate(c.candidate) && !peer.remoteLoopback) peer.heldLoopback.push(c);
  else if (guess) {
    sendCandidate(host, peer, guess);
    peer.hostHold.hold(c);
  } else sendCandidate(host, peer, c);
}

function revealLoopback(host: HostState, peer: Peer): void {
  if (peer.remoteLoopback) return;
  peer.remoteLoopback = true;
  for (const c of peer.heldLoopback.splice(0)) sendCandidate(host, peer, c);
}

/** Counted against its cap, dropped when unreachable, applied once the offer is. */
export function onCandidate(host: HostState, peer: Peer, c: RtcIceCandidateInit): void {
  if (++peer.remoteCandidates > MAX_REMOTE_CANDIDATES) {
    signal(host, peer, { type: 'error', code: 'ERR_TOO_MANY_CANDIDATES', message: `more than ${MAX_REMOTE_CANDIDATES} candidates` });
    return closePeerEntry(host, peer, 'failed', 'too many candidates');
  }
  if (unreachable(host, c.candidate)) return peer.trace(`remote candidate ${candidateKind(c.candidate)} dropped`);
  peer.trace(`remote candidate ${candidateKind(c.candidate)}`);
  if (isLoopbackCandidate(c.candidate)) revealLoopback(host, peer);
  if (behindOurAddress(host, c.candidate)) peer.hostHold.release();
  if (!peer.remoteDescriptionSet) peer.pendingRemote.push(c);
  else void peer.pc.addIceCandidate(c).catch(iceCandidateNotAdded(peer.viewerId));
}
