/**
 * Peer connections prepared for a viewer's next page load (docs/PROTOCOL.md
 * §Resumed peer connections). A viewer whose channel is up sends `prepare`
 * with the offer of its next peer connection, made with a certificate its
 * tab keeps; the agent answers that offer here, gathers its candidates into
 * the answer, and keeps the peer connection parked under a random token.
 * The tab's next page load makes its peer connection with the same
 * certificate and ICE credentials, applies the kept answer at once and
 * claims the parked one with an `offer` carrying the token: no answer has to
 * come back through the tunnel server before ICE starts.
 *
 * Bounded: one parked peer connection per preparing viewer (a new `prepare`
 * replaces it), at most `max` in all (the oldest goes first), each closed
 * after `ttlMs` unclaimed, or PARKED_AFTER_LEAVE_MS after its viewer left. A claim must come with the offer's own ICE
 * credentials and DTLS fingerprint, and MACed when the preparation was.
 */
import { randomBytes } from 'node:crypto';
import { holdMessages, MAX_P2P_CHANNELS, sdpFingerprint, type ChannelInbox, type TrustKeys } from '@wingman/protocol';
import type { RtcDataChannel, RtcPeerConnection } from './webrtc';

/** How long a parked peer connection waits for its claim: the tab re-prepares before its record ages past this (browser-client resume-record.ts). */
export const PARKED_TTL_MS = 5 * 60_000;

/**
 * Once the viewer that prepared a parked peer connection has left (its page
 * unloaded), the claim comes within this long or not at all, ms: a reload's
 * next page sends it within a second or two; a closed tab never does.
 */
export const PARKED_AFTER_LEAVE_MS = 30_000;

/** A viewer's `prepare` within this long of its last one is ignored, ms (a shell prepares every few minutes). */
export const PREPARE_MIN_INTERVAL_MS = 5_000;

/** How long the agent waits for its candidates before it answers a `prepare` with what it has. */
export const PREPARE_GATHER_MS = 3_000;

/** A parked peer connection. */
export interface Parked {
  token: string;
  /** The viewer that prepared it (its tab's previous page). */
  preparer: string;
  pc: RtcPeerConnection;
  /** The offer it answered (its remote description). */
  offer: string;
  /** The preparing viewer's keys, when its signaling was MACed: a claim must be MACed too. */
  keys?: TrustKeys;
  /** The preparing viewer had revealed loopback candidates (tests on one machine). */
  loopback: boolean;
  /** Channels that opened before the claim, with what they received (heldChannels). */
  channels: HeldChannel[];
  timer: ReturnType<typeof setTimeout>;
  /** When `timer` closes it (Date.now() time). */
  deadline: number;
}

/** A channel of a parked peer connection and what it received before the claim. */
export interface HeldChannel {
  dc: RtcDataChannel;
  inbox: ChannelInbox;
}

/**
 * The channels `pc` gets before its claim, with their messages held. The
 * page's checks reach the parked peer connection over the peer path, faster
 * than its claim through the tunnel server: ICE, DTLS and SCTP may be up, and
 * the page's channel-binding proof sent, before the claim is in. At most
 * MAX_P2P_CHANNELS; more are closed.
 */
export function heldChannels(pc: RtcPeerConnection): HeldChannel[] {
  const held: HeldChannel[] = [];
  pc.ondatachannel = (ev) => {
    if (held.length >= MAX_P2P_CHANNELS) {
      try {
        ev.channel.close();
      } catch {
        /* already closed */
      }
      return;
    }
    held.push({ dc: ev.channel, inbox: holdMessages(ev.channel) });
  };
  return held;
}

/** The ICE credentials and DTLS fingerprint of an SDP's first media section: what a claim must repeat. */
export function offerIdentity(sdp: string): string | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)\r?$/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)\r?$/m.exec(sdp)?.[1];
  const fp = sdpFingerprint(sdp);
  return ufrag && pwd && fp ? `${ufrag} ${pwd} ${fp}` : undefined;
}

/** A new token: 128 random bits, base64url (RESUME_TOKEN_PATTERN). */
export function newResumeToken(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Resolves once `pc` has gathered a public (server-reflexive) candidate or
 * all of its candidates (its null candidate), or after `ms`; call before its
 * local description is set. Takes `onicecandidate` until then. A resumed
 * peer connection needs the public candidate; relayed ones (TURN) are not
 * waited for.
 */
export function gatheredOnce(pc: RtcPeerConnection, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.onicecandidate = null;
      resolve();
    };
    const timer = setTimeout(done, ms);
    pc.onicecandidate = (ev) => {
      if (!ev.candidate || / typ srflx /.test(ev.candidate.candidate)) done();
    };
  });
}

export interface ParkedPeers {
  /** Parks `entry` (closing the preparer's previous one, and the oldest when full); returns its token. */
  park(entry: Omit<Parked, 'token' | 'timer' | 'deadline'>): string;
  /**
   * The parked peer connection `token` names, taken out, when `offer` repeats
   * the credentials and fingerprint it was prepared with and `macked` matches
   * how it was prepared; else undefined (an unknown or mismatched claim also
   * closes the parked one: a token is good for one claim).
   */
  claim(token: string, offer: string, macked: boolean): Parked | undefined;
  /** The viewer that prepared one left: it waits PARKED_AFTER_LEAVE_MS more at most. */
  preparerLeft(preparer: string): void;
  readonly size: number;
  close(): void;
}

export function createParkedPeers(options: { max: number; ttlMs?: number; afterLeaveMs?: number; closePc: (pc: RtcPeerConnection) => void }): ParkedPeers {
  const parked = new Map<string, Parked>();
  const ttlMs = options.ttlMs ?? PARKED_TTL_MS;
  const afterLeaveMs = options.afterLeaveMs ?? PARKED_AFTER_LEAVE_MS;
  const drop = (p: Parked) => {
    clearTimeout(p.timer);
    parked.delete(p.token);
    options.closePc(p.pc);
  };
  return {
    park(entry) {
      for (const p of [...parked.values()]) if (p.preparer === entry.preparer) drop(p);
      // Insertion order is age order.
      while (parked.size >= options.max) drop(parked.values().next().value!);
      const token = newResumeToken();
      const p: Parked = { ...entry, token, timer: setTimeout(() => drop(p), ttlMs), deadline: Date.now() + ttlMs };
      parked.set(token, p);
      return token;
    },
    preparerLeft(preparer) {
      const until = Date.now() + afterLeaveMs;
      for (const p of parked.values()) {
        if (p.preparer !== preparer || p.deadline <= until) continue;
        clearTimeout(p.timer);
        p.deadline = until;
        p.timer = setTimeout(() => drop(p), afterLeaveMs);
      }
    },
    claim(token, offer, macked) {
      const p = parked.get(token);
      if (!p) return undefined;
      const same = offerIdentity(offer);
      if (same === undefined || same !== offerIdentity(p.offer) || macked !== (p.keys !== undefined)) {
        drop(p);
        return undefined;
      }
      clearTimeout(p.timer);
      parked.delete(token);
      return p;
    },
    get size() {
      return parked.size;
    },
    close() {
      for (const p of [...parked.values()]) drop(p);
    },
  };
}
