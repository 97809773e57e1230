/**
 * A page load's first signals, sent before its signaling socket is open
 * (docs/PROTOCOL.md §Signal batches): the page names its viewer id on the
 * socket's URL (one of its own on a resumed load, the one its document's
 * hello gave on a first visit), so it can MAC its first offer (a resumed
 * load's claim) and first candidates at once, and POSTs them to SIGNAL_PATH
 * on the page's open HTTP/2 connection while the socket's round trip is
 * still under way. The server relays them
 * as if they had come on the socket. A batch the server does not take (an id
 * it gave to another viewer, a socket it has not seen) goes out on the
 * socket after the hello instead, in its place in the order.
 */
import { MAX_SIGNAL_BATCH_MESSAGES, SIGNAL_PATH, type TrustKeys, type ViewerSignal } from '@wingman/protocol';
import { macedSignal, type SignalSender } from './signal-out';

/** How long a sealed-to-be batch waits for the first host candidate after its claim, ms (the browser gathers it within a few). */
export const SIGNAL_BATCH_CANDIDATE_WAIT_MS = 30;

/** A viewer id for this page to name (VIEWER_ID_PATTERN: 64 random bits). */
export function newViewerId(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export interface SignalBatchOut {
  /** Adds a message; false once the batch has left or is full (send it on the socket then). */
  add(m: ViewerSignal): boolean;
  /** Sends the batch, once; settles when the server took it or its messages were put back in the sender's order. */
  seal(): Promise<void>;
  /** Whether the server took it: undefined until known. */
  readonly taken: boolean | undefined;
}

/** POSTs `messages` for `viewerId`; true when the server relayed them (204). */
async function post(viewerId: string, keys: Promise<TrustKeys> | undefined, messages: readonly ViewerSignal[]): Promise<boolean> {
  const body = JSON.stringify({ viewerId, messages: await Promise.all(messages.map((m) => macedSignal(keys, viewerId, m))) });
  const res = await fetch(SIGNAL_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    cache: 'no-store',
    credentials: 'same-origin',
  });
  return res.status === 204;
}

/**
 * The batch of the viewer `viewerId` (the id its socket's URL names), MACed
 * with `keys` when the shell holds the link key; `sender` carries on after it.
 */
export function signalBatch(viewerId: string, keys: Promise<TrustKeys> | undefined, sender: SignalSender): SignalBatchOut {
  const messages: ViewerSignal[] = [];
  let sealed: Promise<void> | undefined;
  let taken: boolean | undefined;
  return {
    add(m) {
      if (sealed || messages.length >= MAX_SIGNAL_BATCH_MESSAGES) return false;
      messages.push(m);
      return true;
    },
    seal() {
      if (sealed) return sealed;
      const posted = post(viewerId, keys, messages).catch(() => false);
      // Refused: the same messages on the socket, before whatever is sent after this (MACed for the hello's viewer id).
      sender.slot(
        posted.then((ok) => {
          taken = ok;
          return ok ? [] : messages;
        }),
      );
      sealed = posted.then(() => undefined);
      return sealed;
    },
    get taken() {
      return taken;
    },
  };
}
