/**
 * The viewer gate of a session whose agent registered with `viewers` (docs/PROTOCOL.md §Viewer identity): every
 * request, upgrade and signaling socket is tied to a viewer (viewer-cookie.ts); new viewers are announced to the agent,
 * admitted (`open`) or held (`approve`), and a refusal, or the end of a viewer's sign-in, closes what it holds here (the
 * agent ends its P2P channels by its own clock). State lives on the node that holds the agent.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_VIEWER_USER_AGENT_CHARS, type ViewerDecisionMessage, type ViewerGateMode, type ViewerMessage, type ViewerState } from '@wingman/protocol';
import { sourceKey } from '../http/source-key';
import type { Session } from '../sessions/registry';
import { createSignInEnds } from './sign-in-ends';
import type { ViewerCookies } from './viewer-cookie';
import type { SessionViewers, SignedIn, ViewerRecord } from '../sessions/session-viewers';

/**
 * Viewers remembered per session (~200 bytes each). Beyond it the least recently seen is forgotten (it comes back as a
 * new viewer), but refused ids are kept in their own list, and on an `approve` session admitted viewers stay.
 */
export const MAX_TRACKED_VIEWERS = 1_000;
/**
 * Waiting viewers one address (IPv6: /64) may have on an `approve` session: a reviewer's browsers, a few colleagues
 * behind one NAT. A further one from that address replaces its own least recently seen waiting viewer, so a flood
 * from one address never grows the developer's list nor pushes out anyone else's.
 */
export const MAX_WAITING_VIEWERS_PER_ADDRESS = 4;
/**
 * Waiting viewers per session, all addresses: more than a developer reads in a terminal. A newcomer beyond it
 * replaces the least recently seen waiting viewer of the address that has the most waiting.
 */
export const MAX_WAITING_VIEWERS = 32;
/** Refused viewer ids remembered per session after their record was forgotten (33 bytes each). */
const MAX_REFUSED_VIEWER_IDS = 10_000;

export type ViewerCheck =
  /** The session has no gate. */
  | { kind: 'open' }
  | { kind: 'admitted'; viewer: ViewerRecord; setCookie?: string }
  | { kind: 'waiting'; viewer: ViewerRecord; setCookie?: string }
  | { kind: 'refused'; viewer: ViewerRecord; setCookie?: string };

export type ViewerGate = ReturnType<typeof createViewerGate>;

function viewerMessage(v: ViewerRecord): ViewerMessage {
  return {
    type: 'viewer',
    id: v.id,
    state: v.state,
    address: v.address,
    userAgent: v.userAgent,
    firstSeenAt: v.firstSeenAt,
    ...(v.email !== undefined ? { email: v.email } : {}),
    ...(v.signInUntil !== undefined ? { signInEndsInMs: Math.max(0, Math.round(v.signInUntil - Date.now())) } : {}),
  };
}

export function createViewerGate(options: { cookies: ViewerCookies; log?: (msg: string, extra: object) => void }) {
  const announce = (session: Session, v: ViewerRecord) => session.agent?.sendControl(viewerMessage(v));

  /** Forgets a waiting viewer to make room (waiting caps); the agent drops it from its list. */
  const forgetWaiting = (session: Session, v: ViewerRecord) => {
    session.viewers!.records.delete(v.id);
    session.agent?.sendControl({ type: 'viewer-gone', id: v.id });
  };

  /** Makes room for one more waiting viewer from `address` within the waiting caps. */
  const roomForWaiting = (session: Session, address: string) => {
    const source = sourceKey(address);
    // Least recently seen first, per address.
    const bySource = new Map<string, ViewerRecord[]>();
    let total = 0;
    for (const v of session.viewers!.records.values()) {
      if (v.state !== 'waiting') continue;
      const key = sourceKey(v.address);
      let list = bySource.get(key);
      if (!list) bySource.set(key, (list = []));
      list.push(v);
      total++;
    }
    const own = bySource.get(source) ?? [];
    if (own.length >= MAX_WAITING_VIEWERS_PER_ADDRESS) return forgetWaiting(session, own[0]!);
    if (total < MAX_WAITING_VIEWERS) return;
    let largest: ViewerRecord[] = [];
    for (const list of bySource.values()) if (list.length > largest.length) largest = list;
    forgetWaiting(session, largest[0]!);
  };

  /** Closes what viewer `id` holds open on this server. */
  const closeHeld = (session: Session, id: string, why: string) => {
    const closers = session.viewers!.live.get(id);
    session.viewers!.live.delete(id);
    for (const close of closers ?? []) {
      try {
        close();
      } catch (err) {
        options.log?.(`closing the socket of a viewer ${why} failed`, { err });
      }
    }
  };

  const setState = (session: Session, v: ViewerRecord, state: ViewerState) => {
    if (v.email !== undefined) noteEmail(session.viewers!, v.email, state);
    if (v.state === state) return;
    v.state = state;
    announce(session, v);
    if (state === 'refused') closeHeld(session, v.id, 'refused');
  };

  // A viewer whose sign-in ended: what it holds here closes (the agent ends its P2P channels at the time it was told).
  const signInEnds = createSignInEnds((session, v) => closeHeld(session, v.id, 'whose sign-in ended'));

  /** A refused email stays refused for new browsers until the developer admits one of its viewers. */
  const noteEmail = (viewers: SessionViewers, email: string, state: ViewerState) => {
    if (state === 'admitted') viewers.refusedEmails.delete(email);
    if (state !== 'refused') return;
    viewers.refusedEmails.add(email);
    if (viewers.refusedEmails.size > MAX_REFUSED_VIEWER_IDS) viewers.refusedEmails.delete(viewers.refusedEmails.values().next().value as string);
  };

  const remember = (session: Session, v: ViewerRecord) => {
    const viewers = session.viewers!;
    viewers.records.delete(v.id);
    viewers.records.set(v.id, v);
    if (viewers.records.size <= MAX_TRACKED_VIEWERS) return;
    // The least recently seen goes; on an approve session never an admitted one (only the developer admits).
    let oldest: ViewerRecord | undefined;
    for (const r of viewers.records.values()) {
      if (r === v || (viewers.mode === 'approve' && r.state === 'admitted')) continue;
      oldest = r;
      break;
    }
    if (!oldest) return;
    if (oldest.state === 'waiting') return forgetWaiting(session, oldest);
    viewers.records.delete(oldest.id);
    if (oldest.state !== 'refused') return;
    viewers.refusedIds.add(oldest.id);
    if (viewers.refusedIds.size > MAX_REFUSED_VIEWER_IDS) viewers.refusedIds.delete(viewers.refusedIds.values().next().value as string);
  };

  return {
    /**
     * Forgets every viewer of the session and closes what they hold open (the access mode of a resumed session changed:
     * admissions made under the old one do not carry over). Their next request makes them new viewers.
     */
    reset(session: Session): void {
      const viewers = session.viewers;
      if (!viewers) return;
      viewers.records.clear();
      viewers.refusedIds.clear();
      viewers.refusedEmails.clear();
      signInEnds.clear(session);
      for (const id of [...viewers.live.keys()]) closeHeld(session, id, 'at an access change');
    },

    /** Turns the gate on for a session (at register; a resume keeps the viewers and their states) and announces every known viewer to the agent. */
    enable(session: Session, mode: ViewerGateMode): void {
      if (!session.viewers) session.viewers = { mode, records: new Map(), refusedIds: new Set(), refusedEmails: new Set(), live: new Map() };
      session.viewers.mode = mode;
      for (const v of session.viewers.records.values()) announce(session, v);
    },

    /**
     * Ties `req` to its viewer, creating (and announcing) it when new; `signIn`: what it signed in as (sign-in gate),
     * announced with it, and when that sign-in ends (what the viewer holds then ends too).
     */
    check(req: IncomingMessage, session: Session, address: string, signIn?: SignedIn): ViewerCheck {
      const email = signIn?.email;
      const viewers = session.viewers;
      if (!viewers) return { kind: 'open' };
      const { id, setCookie } = options.cookies(req, session.id, address);
      let v = viewers.records.get(id);
      if (!v) {
        const refused = viewers.refusedIds.delete(id) || (email !== undefined && viewers.refusedEmails.has(email));
        const state = refused ? 'refused' : viewers.mode === 'approve' ? 'waiting' : 'admitted';
        if (state === 'waiting') roomForWaiting(session, address);
        v = {
          id,
          state,
          address,
          userAgent: String(req.headers['user-agent'] ?? '').slice(0, MAX_VIEWER_USER_AGENT_CHARS),
          firstSeenAt: Date.now(),
          ...(email !== undefined ? { email } : {}),
        };
        remember(session, v);
        if (signIn?.until !== undefined) signInEnds.note(session, v, signIn.until);
        announce(session, v);
      } else {
        remember(session, v);
        // Signed in (again, or as someone else) since it was announced: the developer sees who it is now, the agent until when.
        const later = signIn?.until !== undefined && signInEnds.note(session, v, signIn.until);
        const other = email !== undefined && v.email !== email;
        if (other) v.email = email;
        if (email !== undefined && other && viewers.refusedEmails.has(email)) setState(session, v, 'refused');
        else if (later || other) announce(session, v);
      }
      return { kind: v.state, viewer: v, ...(setCookie ? { setCookie } : {}) };
    },

    decide(session: Session, decision: ViewerDecisionMessage): void {
      const viewers = session.viewers;
      if (!viewers) return;
      if (decision.decision === 'refuse-all') {
        for (const v of [...viewers.records.values()]) setState(session, v, 'refused');
        return;
      }
      const v = viewers.records.get(decision.id!);
      if (v) setState(session, v, decision.decision === 'admit' ? 'admitted' : 'refused');
      else if (decision.decision === 'refuse') viewers.refusedIds.add(decision.id!);
      else viewers.refusedIds.delete(decision.id!);
    },

    /** Registers something viewer `id` holds open; `close` runs if it is refused. Returns the release function. */
    hold(session: Session, id: string, close: () => void): () => void {
      const live = session.viewers?.live;
      if (!live) return () => undefined;
      let set = live.get(id);
      if (!set) live.set(id, (set = new Set()));
      set.add(close);
      return () => {
        const s = live.get(id);
        s?.delete(close);
        if (s?.size === 0) live.delete(id);
      };
    },
  };
}
