/**
 * What a shell page sends to the tunnel server's signaling: on its
 * WebSockets and in its signal batches (docs/PROTOCOL.md §Signal batches),
 * recorded by an init script, and a way to make the server refuse its
 * batches.
 */
import { until } from '../../../../../test/helpers/wait';
import { inPage, WAIT_MS, type AnyPage } from './shell';

/**
 * An init script: what the page sends on its WebSockets (the signaling
 * sockets, the inline script's included) and in its signal batches (each
 * message tagged `batch` with the server's answer), in order.
 */
export function recordSentSignals(): void {
  const sent: string[] = [];
  Object.defineProperty(window, '__sentSignals', { value: sent });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
    if (typeof data === 'string') sent.push(data);
    return send.call(this, data);
  };
  const fetch0 = window.fetch;
  window.fetch = async function (input: RequestInfo | URL, init?: RequestInit) {
    if (!(typeof input === 'string' && input.endsWith('/__wingman/signal') && init?.method === 'POST' && typeof init.body === 'string'))
      return fetch0.call(this, input, init);
    // In the order sent; the server's answer (`batch`, 0 until it came) filled in when it comes.
    const messages = (JSON.parse(init.body) as { messages: object[] }).messages;
    const at = messages.map((m) => sent.push(JSON.stringify({ ...m, batch: 0 })) - 1);
    const res = await fetch0.call(this, input, init);
    messages.forEach((m, i) => (sent[at[i]!] = JSON.stringify({ ...m, batch: res.status })));
    return res;
  };
}

/** An init script: the page's signal batches name a viewer no socket has, so the server refuses them (and the page sends their messages on its socket). */
export function misaddressBatches(): void {
  const fetch0 = window.fetch;
  window.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    if (typeof input === 'string' && input.endsWith('/__wingman/signal') && init?.method === 'POST' && typeof init.body === 'string')
      init = { ...init, body: JSON.stringify({ ...(JSON.parse(init.body) as object), viewerId: 'ffffffffffffffff' }) };
    return fetch0.call(this, input, init);
  };
}

export interface SentSignal {
  type?: string;
  pc?: number;
  sdp?: string;
  /** Sent in a signal batch, which the server answered with this status. */
  batch?: number;
}

/** What recordSentSignals recorded in the current document. */
export async function sentSignals(page: AnyPage): Promise<SentSignal[]> {
  const sent = await inPage(page, () => (window as unknown as { __sentSignals: string[] }).__sentSignals, undefined);
  return sent.map((text) => JSON.parse(text) as SentSignal);
}

/**
 * What the page sent, once `enough` holds of it and every signal batch among
 * it has its answer (the channel can be up before either: the batch's answer
 * and the hello come a WAN round trip late under farServer).
 */
export function sentOnceAnswered(page: AnyPage, enough: (sent: SentSignal[]) => boolean): Promise<SentSignal[]> {
  return until(
    async () => {
      const sent = await sentSignals(page);
      return enough(sent) && sent.every((m) => m.batch !== 0) ? sent : undefined;
    },
    { timeoutMs: WAIT_MS, intervalMs: 50, what: 'the signals the page sent, with the answers to its batches' },
  );
}
