/**
 * The P2P host: an RTCPeerConnection per viewer, serving protocol streams over
 * its data channel (bound to the link key first) exactly as relayed ones. This
 * file answers signaling; peer-offer.ts the offer and candidates,
 * peer-channel.ts the channel, peer-state.ts what they share.
 */
import {
  DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
  deriveTrustKeys,
  isMacedType,
  linkKeyBytes,
  peerGone,
  signalMacValid,
  type MacedSignal,
  type TrustKeys,
  type ViewerSignal,
} from '@wingman/protocol';
import { ownAddresses } from './candidates';
import { createPendingCloses } from './graceful-close';
import { iceCandidateNotAdded } from './ice-trace';
import { createKeyedSerial } from './keyed-serial';
import { onCandidate, onOffer } from './peer-offer';
import { DEFAULT_CONNECT_TIMEOUT_MS, type LinkTrust, type PeerHost, type PeerHostOptions } from './peer-host-options';
import { closePeerEntry, report, untrusted, type HostState } from './peer-state';
import { PublicAddressMemory } from './predicted-candidate';

export * from './peer-host-options';

export function createPeerHost(options: PeerHostOptions): PeerHost {
  const host: HostState = {
    options,
    peers: new Map(),
    closing: createPendingCloses(),
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    iceServers: options.iceServers ?? [],
    hideHost: options.hideHostCandidates === true,
    publicAddress: options.publicAddress ?? new PublicAddressMemory(),
    predict: options.predictPublicCandidates !== false,
    remotePolicy: { acceptLoopback: options.acceptLoopbackCandidates === true, ownAddresses: ownAddresses() },
    ownMaxMessageBytes: options.maxMessageBytes ?? DATA_CHANNEL_DEFAULT_MESSAGE_BYTES,
    trustKeys: undefined,
    keyRequired: false,
    untrustedCount: 0,
    strippedOffers: new WeakSet(),
  };
  const setTrust = (trust: LinkTrust | undefined) => {
    const bytes = trust ? linkKeyBytes(trust.linkKey) : undefined;
    host.trustKeys = trust && bytes ? deriveTrustKeys(bytes, trust.sessionId) : undefined;
    host.keyRequired = trust?.required === true;
  };
  setTrust(options.trust);
  const inOrder = createKeyedSerial((viewerId, err) => iceCandidateNotAdded(viewerId)(err));

  return {
    handleSignal(viewerId, message) {
      inOrder(viewerId, async () => {
        const verdict = await checked(host, viewerId, message);
        if (verdict !== false) apply(host, viewerId, message, verdict === true ? undefined : verdict);
      });
    },
    viewerLeft(viewerId) {
      const peer = host.peers.get(viewerId);
      if (!peer) return;
      if (!peer.connected) closePeerEntry(host, peer, 'closed', 'viewer left before connecting');
      // Signaling closed without a bye (a tab gone): a departure once its channel answers nothing; one that answers lives on.
      else if (peer.connection) void peerGone(peer.connection).then((gone) => gone && closePeerEntry(host, peer, 'closed', 'viewer left'));
    },
    closePeer(viewerId, reason) {
      const peer = host.peers.get(viewerId);
      if (peer) closePeerEntry(host, peer, 'closed', reason);
    },
    peers() {
      return [...host.peers.values()].map((p) => ({
        viewerId: p.viewerId,
        state: p.connected ? 'connected' : 'connecting',
        verified: p.keys !== undefined,
        ...(p.rttMs !== undefined ? { rttMs: p.rttMs } : {}),
        streams: p.connection?.streamCount ?? 0,
      }));
    },
    setIceServers(servers) {
      host.iceServers = servers;
    },
    setTrust,
    close() {
      for (const p of [...host.peers.values()]) closePeerEntry(host, p, 'closed', 'agent closing');
      host.closing.flush();
    },
  };
}

/**
 * The keys a message was MACed with; true: it needs none; false: drop it.
 * Once an offer came MACed, its peer's messages must be. A MACed candidate
 * after an unMACed offer means the offer lost its MAC on the way: warned
 * once per peer, and dropped.
 */
async function checked(host: HostState, viewerId: string, message: ViewerSignal): Promise<TrustKeys | boolean> {
  if (!isMacedType(message.type)) return true;
  const mac = 'mac' in message ? message.mac : undefined;
  const peer = message.type === 'offer' ? undefined : host.peers.get(viewerId);
  const keys = message.type === 'offer' ? (mac !== undefined ? await host.trustKeys : undefined) : peer?.keys;
  const what = message.type === 'ice-candidate' ? 'a candidate' : `the ${message.type}`;
  if (peer && !keys && mac !== undefined && host.trustKeys) {
    if (!host.strippedOffers.has(peer)) {
      host.strippedOffers.add(peer);
      untrusted(host, viewerId, 'signal-mac', `a MAC on ${what} of a viewer whose offer came without one`);
    }
    return false;
  }
  if (!keys && message.type === 'offer' && host.keyRequired) {
    host.options.sendSignal(viewerId, {
      type: 'error',
      code: 'ERR_LINK_KEY_REQUIRED',
      message: "this session is private: it is served only over a channel verified with the link's key (#k=…)",
    });
    report(host, { viewerId, state: 'failed', reason: 'no link key (private session)' });
    return false;
  }
  if (!keys) return true;
  if (await signalMacValid(keys, 'viewer', viewerId, message as MacedSignal, mac)) return keys;
  untrusted(host, viewerId, 'signal-mac', `${mac === undefined ? 'no MAC on' : 'a wrong MAC on'} ${what}`);
  return false;
}

function apply(host: HostState, viewerId: string, message: ViewerSignal, keys: TrustKeys | undefined): void {
  const peer = host.peers.get(viewerId);
  switch (message.type) {
    case 'offer':
      onOffer(host, viewerId, message.sdp, keys).catch((err: unknown) => {
        const p = host.peers.get(viewerId);
        host.options.sendSignal(viewerId, { type: 'error', code: 'ERR_BAD_OFFER', message: `could not answer the offer: ${(err as Error).message}` });
        if (p) closePeerEntry(host, p, 'failed', 'bad offer');
      });
      return;
    case 'ice-candidate':
      if (peer && !peer.closed) onCandidate(host, peer, message.candidate);
      return;
    case 'end-of-candidates':
      if (peer?.remoteDescriptionSet) void peer.pc.addIceCandidate(null).catch(iceCandidateNotAdded(viewerId));
      return;
    case 'connection-state':
      if (peer && message.state === 'failed') closePeerEntry(host, peer, 'failed', message.reason ?? 'viewer reported failure');
      return;
    case 'bye':
      if (peer) closePeerEntry(host, peer, 'closed', message.reason ?? 'viewer said bye');
      return;
  }
}
