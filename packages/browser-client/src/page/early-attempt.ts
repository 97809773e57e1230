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
 * meanwhile (the answer and the agent's candidates, which client.js applies:
 * the channels cannot open before it took over), the peer connection and its
 * channels. Taken once: later attempts start from scratch.
 */
import { MAX_P2P_CHANNELS } from '@wingman/protocol';
import type { PreparedPeer } from './peer-connection';
import type { EarlyAttemptHandover, HandoverWindow } from './shell-handover';

/** The inline script's attempt as client.js carries it on: checked, and its messages copied. */
export interface EarlyAttempt {
  readonly ws: WebSocket;
  /** Settles once what the inline script sent has left: client.js sends after it. */
  readonly sent: Promise<void>;
  readonly messages: readonly unknown[];
  readonly marks: Readonly<Record<string, number>>;
  readonly peer?: Readonly<NonNullable<EarlyAttemptHandover['peer']>>;
  /** The peer connection made before the hello, not offered yet (client.js offers it on the hello). */
  readonly prepared?: PreparedPeer;
}

const isChannels = (dcs: unknown): dcs is RTCDataChannel[] =>
  typeof RTCDataChannel === 'function' &&
  Array.isArray(dcs) &&
  dcs.length >= 1 &&
  dcs.length <= MAX_P2P_CHANNELS &&
  dcs.every((dc) => dc instanceof RTCDataChannel);

/** The handover's prepared peer when it has the shape the inline script gives it, else undefined (an unusable one is closed). */
function validPrepared(v: unknown): PreparedPeer | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { pc, dcs, videoSection, offer } = v as Record<string, unknown>;
  const isPc = typeof RTCPeerConnection === 'function' && pc instanceof RTCPeerConnection;
  if (isPc && isChannels(dcs) && typeof videoSection === 'boolean' && offer instanceof Promise && pc.signalingState === 'stable' && !pc.localDescription)
    return { pc, dcs: dcs.slice(), videoSection, offer: offer as Promise<RTCSessionDescriptionInit> };
  try {
    if (isPc) pc.close();
  } catch {
    /* already closed */
  }
  return undefined;
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
    early.prepared?.pc.close();
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
  const prepared = validPrepared((raw as Record<string, unknown>).prepared);
  if (!(ws instanceof WebSocket) || !Array.isArray(messages)) {
    prepared?.pc.close();
    return undefined;
  }
  const { pc, dcs, offered } = (typeof peer === 'object' && peer !== null ? peer : {}) as Record<string, unknown>;
  const hasPc = typeof RTCPeerConnection === 'function' && pc instanceof RTCPeerConnection;
  const hasDc = isChannels(dcs);
  if (hasPc !== hasDc || (hasPc && !(offered instanceof Promise)) || ws.readyState > WebSocket.OPEN) {
    // Half-made or already dead: close it, and the caller starts a fresh attempt.
    try {
      if (pc instanceof RTCPeerConnection) pc.close();
      prepared?.pc.close();
      ws.close(1000);
    } catch {
      /* already closed */
    }
    return undefined;
  }
  const adopted = hasPc ? { pc, dcs: (dcs as RTCDataChannel[]).slice(), offered: offered as Promise<void> } : undefined;
  if (adopted) prepared?.pc.close();
  return {
    ws,
    messages: messages.slice(),
    marks: validMarks(marks),
    sent: sentSoFar instanceof Promise ? (sentSoFar as Promise<void>) : Promise.resolve(),
    ...(adopted ? { peer: adopted } : {}),
    // Offered already, or not: one of the two.
    ...(prepared && !adopted ? { prepared } : {}),
  };
}
