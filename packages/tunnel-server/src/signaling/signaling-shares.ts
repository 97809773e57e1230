/**
 * Who may hold a session's signaling sockets: MAX_VIEWERS_PER_SESSION in all, shared as the relay streams are (fair
 * shares, a floor per network and push-out: sessions/push-out.ts), since 17 networks each within its share held all 64.
 * A cut socket hears why (ERR_SIGNALING_QUOTA, close 1013); it ends the viewer's signaling, not an open P2P channel.
 */
import type WebSocket from 'ws';
import type { HostSignal, SignalingErrorCode } from '@wingman/protocol';
import type { ShareHolder } from '../sessions/fair-share';
import { createPushOutShares, type SlotCut } from '../sessions/push-out';
import { WS_CLOSE_POLICY_VIOLATION, WS_CLOSE_TRY_AGAIN_LATER } from '../http/ws-data';

/** Viewers signaling at once per session (each tab is one). */
export const MAX_VIEWERS_PER_SESSION = 64;
/** Stable code of a signaling socket refused, or cut, because its address or network holds its share of them in the session. */
const ERR_SIGNALING_QUOTA = 'ERR_SIGNALING_QUOTA' satisfies SignalingErrorCode;

/** What a signaling socket cut for another viewer reads, before its close. */
export const SIGNALING_CUT_MESSAGE =
  "this address's network (an IPv4 /24, an IPv6 /56) held the most of this session's signaling sockets, which are all taken: this one, its newest, was ended so that a viewer holding fewer can set up P2P; the relay goes on serving this page";
/** Its close reason (at most 123 bytes). */
export const SIGNALING_CUT_REASON = `your network held the most signaling sockets (${ERR_SIGNALING_QUOTA})`;

type ErrorMessage = Extract<HostSignal, { type: 'error' }>;

interface SignalingSharesOptions {
  /** Signaling sockets one address may hold per session, at most (fair-share.ts's cap). */
  maxPerAddress: number;
  /** Sends one error message on `ws`: `refused` when the socket is refused (counted as a refusal), `cut` when it is cut for another (counted in onCut). */
  sendError(ws: WebSocket, message: ErrorMessage, why: 'refused' | 'cut'): void;
  /** Each socket cut for a viewer holding fewer (the hub counts it, server.ts logs it). */
  onCut(cut: SlotCut<string>): void;
}

/**
 * The admission of signaling sockets: it takes a slot of `sessionId` for `holder`, or refuses `ws` (an error message,
 * then close 1008) and returns undefined. Taken, it returns the release to call when `ws` closes; the slot may be cut
 * for a viewer holding fewer (its error message, then close 1013).
 */
export function createSignalingShares({ maxPerAddress, sendError, onCut }: SignalingSharesOptions) {
  const shares = createPushOutShares<string>(onCut);
  return (ws: WebSocket, sessionId: string, holder: ShareHolder): (() => void) | undefined => {
    const verdict = shares.acquire(sessionId, holder, MAX_VIEWERS_PER_SESSION, maxPerAddress);
    if (verdict === 'taken') {
      return shares.hold(sessionId, holder, () => {
        sendError(ws, { type: 'error', code: ERR_SIGNALING_QUOTA, message: SIGNALING_CUT_MESSAGE }, 'cut');
        ws.close(WS_CLOSE_TRY_AGAIN_LATER, SIGNALING_CUT_REASON);
      });
    }
    if (verdict === 'full') {
      sendError(ws, { type: 'error', code: 'ERR_TOO_MANY_VIEWERS', message: `at most ${MAX_VIEWERS_PER_SESSION} viewers signal at once` }, 'refused');
      ws.close(WS_CLOSE_POLICY_VIOLATION, 'too many viewers');
      return undefined;
    }
    const message =
      verdict === 'network'
        ? "this address's network (an IPv4 /24, an IPv6 /56) holds its share of the session's signaling sockets now: a quarter of what other networks leave free"
        : `this address holds ${shares.count(sessionId, holder)} signaling sockets: its share of the session now (at most ${maxPerAddress}, and a quarter of what other addresses leave free)`;
    sendError(ws, { type: 'error', code: ERR_SIGNALING_QUOTA, message }, 'refused');
    ws.close(WS_CLOSE_POLICY_VIOLATION, `too many signaling sockets from this ${verdict === 'network' ? 'network' : 'address'}`);
    return undefined;
  };
}
