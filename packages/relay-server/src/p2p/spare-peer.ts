/**
 * The P2P host's spare peer connection: one RTCPeerConnection made ahead of
 * the next viewer's offer with `iceCandidatePoolSize`, so libwebrtc gathers
 * its candidates (host, server-reflexive from STUN, relayed from TURN) while
 * no viewer waits. The next offer takes it, its answer then carries those
 * candidates (peer-host.ts), and a new spare starts gathering. Without it
 * the agent gathers only once the offer is in: its server-reflexive
 * candidate costs a STUN round trip to the server and is then trickled
 * through the server, both on the path to a usable channel (every reload
 * of a shell makes a new peer connection). docs/PROTOCOL.md §Pre-gathered
 * candidates.
 *
 * The next spare is made once a viewer's channel is up (or it gave up), at
 * the latest SPARE_REFILL_MAX_DELAY_MS after the last was taken or dropped:
 * making a peer connection and gathering (sockets, STUN, a TURN allocation)
 * runs on the same WebRTC threads as the viewers' ICE and DTLS handshakes.
 *
 * Bounded: one spare at a time, dropped when the ICE servers change (new
 * TURN credentials) and not used once older than SPARE_MAX_AGE_MS; closed
 * with the host.
 */
import type { RtcConfiguration, RtcPeerConnection } from './webrtc';

/** Candidate sets libwebrtc gathers ahead: one (every viewer's offer bundles on one transport). */
export const SPARE_CANDIDATE_POOL_SIZE = 1;
/**
 * A spare older than this is closed instead of used, ms. Its TURN credentials
 * are renewed before they expire (the server sends new ones ahead of an offer
 * once half their lifetime, TURN_TTL_S ≥ 60 s, has passed, and that replaces
 * the spare); this bounds what else an idle spare may have lost (a NAT's
 * mapping for its server-reflexive candidate).
 */
export const SPARE_MAX_AGE_MS = 2 * 60_000;
/** The next spare is made at the latest this long after one was taken, ms (sooner when refill() is called). */
export const SPARE_REFILL_MAX_DELAY_MS = 3_000;

export interface SparePeers {
  /** The spare for this offer when one is ready and fresh, else undefined; the next is made on refill() or after SPARE_REFILL_MAX_DELAY_MS. */
  take(): RtcPeerConnection | undefined;
  /** Makes the next spare now (a viewer's handshake is over), unless there is one. */
  refill(): void;
  /** Drops the spare: the next is made for these ICE servers (on refill(), or after SPARE_REFILL_MAX_DELAY_MS). */
  setIceServers(servers: RtcConfiguration['iceServers']): void;
  /** Closes the spare; nothing is made after. */
  close(): void;
}

export interface SparePeerOptions {
  create(config: RtcConfiguration): RtcPeerConnection;
  close(pc: RtcPeerConnection): void;
  iceServers: RtcConfiguration['iceServers'];
  now?: () => number;
}

export function createSparePeers(options: SparePeerOptions): SparePeers {
  const now = options.now ?? Date.now;
  let iceServers = options.iceServers;
  let spare: { pc: RtcPeerConnection; madeAt: number } | undefined;
  let closed = false;
  let refill: ReturnType<typeof setTimeout> | undefined;

  const make = () => {
    refill = undefined;
    if (closed || spare) return;
    try {
      spare = { pc: options.create({ iceServers, iceCandidatePoolSize: SPARE_CANDIDATE_POOL_SIZE }), madeAt: now() };
    } catch {
      // The offer's own peer connection meets the same error and reports it.
      spare = undefined;
    }
  };
  const drop = () => {
    if (spare) options.close(spare.pc);
    spare = undefined;
  };
  /** Makes the next spare after `delayMs` (after the current task at the soonest), unless one is due sooner. */
  let refillAt = Infinity;
  const makeIn = (delayMs: number) => {
    if (closed || spare || now() + delayMs >= refillAt) return;
    if (refill) clearTimeout(refill);
    refillAt = now() + delayMs;
    refill = setTimeout(() => {
      refillAt = Infinity;
      make();
    }, delayMs);
  };
  make();

  return {
    take() {
      const s = spare;
      spare = undefined;
      makeIn(SPARE_REFILL_MAX_DELAY_MS);
      if (!s) return undefined;
      if (now() - s.madeAt > SPARE_MAX_AGE_MS) {
        options.close(s.pc);
        return undefined;
      }
      return s.pc;
    },
    refill() {
      makeIn(0);
    },
    setIceServers(servers) {
      iceServers = servers;
      drop();
      // New credentials come right before an offer: that viewer's handshake goes first.
      makeIn(SPARE_REFILL_MAX_DELAY_MS);
    },
    close() {
      closed = true;
      if (refill) clearTimeout(refill);
      drop();
    },
  };
}
