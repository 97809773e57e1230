/**
 * The P2P attempt the shell's inline script starts before client.js has
 * arrived (early-attempt-inline.ts): the signaling WebSocket
 * at once, and on the server's hello the RTCPeerConnection, its data channel
 * and the offer, with the browser's candidates trickled as they come. On a
 * first visit client.js is loaded only once the Service Worker controls the
 * shell (lab, far-server: ~0.75 s after navigation start, ~0.4 s after the
 * inline script ran), so the signaling round trips and the browser's
 * candidate gathering overlap that wait. client.js adopts what the inline
 * script started (peer-attempt.ts): the socket, the messages it received
 * meanwhile (the answer and the agent's candidates, which client.js
 * applies), the peer connection and its channel, with what it received
 * before client.js listened (the protocol's transports/channel-inbox.ts). Taken once: later attempts start from scratch.
 */
import { CHANNEL_INBOX_MAX, LOSS_PROBE_CHANNEL_ID, type ChannelInbox } from '@wingman/protocol';
import type { EarlyPeer, HandoverWindow } from './shell-handover';

/** The inline script's attempt as client.js carries it on: checked, and its messages copied. */
export interface EarlyAttempt {
  readonly ws: WebSocket;
  /** Settles once what the inline script sent has left: client.js sends after it. */
  readonly sent: Promise<void>;
  readonly messages: readonly unknown[];
  readonly marks: Readonly<Record<string, number>>;
  /** Its peer connection, once the hello came. */
  readonly peer?: Readonly<EarlyPeer>;
}

function validMarks(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, t] of Object.entries(v)) if (typeof t === 'number' && Number.isFinite(t) && t >= 0) out[k] = t;
  return out;
}

/** Ends an attempt nobody will carry on (P2P off in the config, the shell stopping first). */
export function closeEarly(early: EarlyAttempt | undefined): void {
  if (!early) return;
  try {
    early.peer?.pc.close();
    early.ws.close(1000);
  } catch {
    /* already closed */
  }
}

/**
 * Takes the inline script's attempt off the window (once), checking its
 * shape: the app frame shares the origin and could have written anything
 * there. Undefined when there is none or it is unusable; an unusable one is
 * closed.
 */
export function takeEarlyAttempt(win: Window = window): EarlyAttempt | undefined {
  const holder = (win as HandoverWindow).__wingmanShell;
  const raw: unknown = holder?.early;
  if (holder) delete holder.early;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { ws, messages, marks, peer, sent } = raw as Record<string, unknown>;
  const sentSoFar: unknown = typeof sent === 'function' ? (sent as () => unknown)() : undefined;
  if (!(ws instanceof WebSocket) || !Array.isArray(messages)) return undefined;
  const valid = peer === undefined ? undefined : validPeer(peer);
  if ((peer !== undefined && !valid) || ws.readyState > WebSocket.OPEN) {
    // Half-made or already dead: close it, and the caller starts a fresh attempt.
    try {
      const pc = typeof peer === 'object' && peer !== null ? (peer as Record<string, unknown>).pc : undefined;
      if (typeof RTCPeerConnection === 'function' && pc instanceof RTCPeerConnection) pc.close();
      ws.close(1000);
    } catch {
      /* already closed */
    }
    return undefined;
  }
  return {
    ws,
    messages: messages.slice(),
    marks: validMarks(marks),
    sent: sentSoFar instanceof Promise ? (sentSoFar as Promise<void>) : Promise.resolve(),
    ...(valid ? { peer: valid } : {}),
  };
}

/** A channel's held messages as the inline script left them: at most CHANNEL_INBOX_MAX, and whether more came. */
function validInbox(v: unknown): ChannelInbox | undefined {
  const { messages, overflowed } = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  if (!Array.isArray(messages) || messages.length > CHANNEL_INBOX_MAX || typeof overflowed !== 'boolean') return undefined;
  return { messages: messages.slice(), overflowed };
}

/**
 * The handover's peer connection, checked: a peer connection, its channel
 * (with what it held, when it did), its loss probe's channel, its offer's promise.
 */
function validPeer(peer: unknown): EarlyPeer | undefined {
  const { pc, dc, probe, offered, inbox } = (typeof peer === 'object' && peer !== null ? peer : {}) as Record<string, unknown>;
  const hasPc = typeof RTCPeerConnection === 'function' && pc instanceof RTCPeerConnection;
  const hasDc = typeof RTCDataChannel === 'function' && dc instanceof RTCDataChannel;
  if (!hasPc || !hasDc || !(offered instanceof Promise)) return undefined;
  const held = inbox === undefined ? undefined : validInbox(inbox);
  if (inbox !== undefined && !held) return undefined;
  // A probe channel of another shape is left out: the measurement is an extra, never a reason to start over.
  const probeOk = probe instanceof RTCDataChannel && probe.negotiated && probe.id === LOSS_PROBE_CHANNEL_ID && !probe.ordered;
  return { pc, dc, ...(probeOk ? { probe } : {}), offered: offered as Promise<void>, ...(held ? { inbox: held } : {}) };
}
