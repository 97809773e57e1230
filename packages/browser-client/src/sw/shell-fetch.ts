/**
 * Hands one request to a shell window, which carries it over the data
 * channel, and gets the response back — all as one exchange on the shell's
 * port (shared/exchange-mux.ts), or, when the SW has no port of the shell's
 * (it reaches the window through Client.postMessage), on a MessageChannel of
 * its own:
 *
 *   SW → shell  wingman:fetch (head)             shell → SW  accept | decline
 *   SW → shell  data… end (request body, only after accept, so a decline
 *               leaves the body unread and the relay can still send it)
 *   shell → SW  head, data… end | abort          SW ⇄ shell  credit, cancel
 *
 * Every wait is bounded (docs/browser-client.md §Failures): accept, head, and
 * while a body is open the shell's window must exist (a closed tab posts nothing more).
 */
import { RESPONSE_HEAD_TIMEOUT_MS, SHELL_ACCEPT_TIMEOUT_MS, SHELL_BUSY_ACCEPT_TIMEOUT_MS, SHELL_LIVENESS_INTERVAL_MS } from '../shared/constants';
import { parseShellToSwPort, unbatch, type FetchRequest, type ShellToSwPort, type SwToShellPort, type WireHeaders } from '../shared/messages';
import type { ExchangePort } from '../shared/exchange-mux';
import { createBodyReceiver, createBodySender, pumpToSender, type BodyReceiver } from '../shared/port-body';
import { ChannelError } from './errors';
import type { ShellPick } from './shell-target';

/** What a request body's pending writes see once the exchange is over (one instance: an Error per request costs its stack trace). */
const FINISHED = new ChannelError('ERR_CANCEL', 'request finished');

/** Delay before closing a finished exchange's port, so a last message (cancel) still reaches the shell. */
const PORT_CLOSE_DELAY_MS = 1_000;

export type ShellOutcome =
  | { kind: 'declined'; reason: string }
  /** Failed before a response head. `bodySent`: request body bytes left the SW (the request cannot be replayed). */
  | { kind: 'failed'; error: ChannelError; bodySent: boolean }
  | {
      kind: 'response';
      status: number;
      headers: WireHeaders;
      body: ReadableStream<Uint8Array>;
      /** The whole body when it came with the head (then `body` is spent); undefined when not all arrived or `body` was read. */
      whole(): Uint8Array | undefined;
    };

interface ShellFetchOptions {
  shell: ShellPick;
  head: Omit<FetchRequest, 'type' | 'hasBody'>;
  /** Request body (already checked non-empty), or null. */
  body: ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
  /** Looks the shell's window up again (liveness). */
  stillThere(): Promise<boolean>;
}

/** Ports of finished exchanges and when each may close: one timer for all of them (a module wave finishes hundreds). */
const closing: Array<[ExchangePort, number]> = [];
let closeTimer: ReturnType<typeof setTimeout> | undefined;

function closeLater(port: ExchangePort): void {
  closing.push([port, Date.now() + PORT_CLOSE_DELAY_MS]);
  closeTimer ??= setTimeout(closeDue, PORT_CLOSE_DELAY_MS);
}

function closeDue(): void {
  closeTimer = undefined;
  const now = Date.now();
  let due = 0;
  while (due < closing.length && closing[due]![1] <= now) due++;
  for (const [port] of closing.splice(0, due)) port.close();
  if (closing.length > 0) closeTimer = setTimeout(closeDue, Math.max(0, closing[0]![1] - now));
}

/** What the liveness watch of an accepted exchange sees of it. */
interface Watched {
  finished(): boolean;
  /** The response head came (or the exchange failed before it). */
  settled(): boolean;
  fail(error: ChannelError, tellShell: boolean): void;
  stillThere(): Promise<boolean>;
}

/** One timer per exchange from accept on (a wave has hundreds): the window's liveness, and the head's deadline until the head came. */
function watchAccepted(x: Watched, setTimer: (timer: ReturnType<typeof setTimeout> | undefined) => void): void {
  const headDeadline = Date.now() + RESPONSE_HEAD_TIMEOUT_MS;
  const watch = () => {
    setTimer(undefined);
    if (x.finished()) return;
    if (!x.settled() && Date.now() >= headDeadline)
      return x.fail(new ChannelError('ERR_TIMEOUT', `no response head within ${RESPONSE_HEAD_TIMEOUT_MS / 1000} s`, false), true);
    void x.stillThere().then((there) => {
      if (!there) x.fail(new ChannelError('ERR_CONNECTION_LOST', 'the page carrying the request went away'), false);
    });
    setTimer(setTimeout(watch, x.settled() ? SHELL_LIVENESS_INTERVAL_MS : Math.min(SHELL_LIVENESS_INTERVAL_MS, Math.max(0, headDeadline - Date.now()))));
  };
  setTimer(setTimeout(watch, Math.min(SHELL_LIVENESS_INTERVAL_MS, RESPONSE_HEAD_TIMEOUT_MS)));
}

/** The response a head starts; its body stream is made only when read: a body taken whole never needs one. */
function responseOutcome(m: Extract<ShellToSwPort, { t: 'head' }>, r: BodyReceiver): ShellOutcome {
  return {
    kind: 'response',
    status: m.status,
    headers: m.headers,
    get body() {
      return r.stream;
    },
    whole: r.takeWhole,
  };
}

/** Sends the request to the shell: on its port's mux when the SW has its port, else on a MessageChannel of its own. */
function openExchange(shell: ShellPick, request: FetchRequest): ExchangePort {
  if (shell.exchange) return shell.exchange(request);
  const { port1, port2 } = new MessageChannel();
  shell.post(request, [port2]);
  return port1;
}

export function fetchViaShell(options: ShellFetchOptions): Promise<ShellOutcome> {
  const { shell, head, body, signal } = options;
  const request: FetchRequest = { type: 'wingman:fetch', ...head, hasBody: body !== null };
  /** The exchange's port, once the request went to the shell (last in the set-up below). */
  let port: ExchangePort | undefined;
  const post = (m: SwToShellPort, transfer: Transferable[] = []) => port?.postMessage(m, transfer);

  return new Promise<ShellOutcome>((resolve) => {
    let settled = false;
    let bodySent = false;
    let receiver: BodyReceiver | undefined;
    let finished = false;
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    let liveness: ReturnType<typeof setTimeout> | undefined;
    const sender = createBodySender((m, t) => post(m, t));

    const settle = (o: ShellOutcome) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      resolve(o);
    };
    const cleanup = () => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      if (liveness !== undefined) clearTimeout(liveness);
      signal.removeEventListener('abort', onAbort);
      shell.channelGone?.removeEventListener('abort', onChannelGone);
      sender.close(FINISHED);
      if (!port) return;
      port.onmessage = null;
      // Closing at once can drop a cancel still in flight to the shell (seen in Chromium).
      closeLater(port);
    };
    /** Ends the exchange with an error, wherever it is. */
    const fail = (error: ChannelError, tellShell: boolean) => {
      if (tellShell) post({ t: 'cancel', reason: error.message });
      if (receiver) receiver.abort(error);
      else settle({ kind: 'failed', error, bodySent });
      cleanup();
    };
    const onAbort = () => fail(new ChannelError('ERR_CANCEL', 'the request was aborted', false), true);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);

    let accepted = false;
    const started = Date.now();
    const noAnswer = (reason: string) => {
      // The shell may still accept later; cancel makes it drop the stream if it does.
      post({ t: 'cancel', reason: 'no accept in time' });
      settle({ kind: 'declined', reason });
      cleanup();
    };
    /** No answer yet: the relay, unless the shell is the requester's own and its window exists (busy: SHELL_BUSY_ACCEPT_TIMEOUT_MS). */
    const unanswered = async (): Promise<void> => {
      const waited = Date.now() - started;
      if (!shell.ownTab) return noAnswer(`the page did not answer within ${waited} ms`);
      const there = await options.stillThere().catch(() => false);
      if (accepted || settled || finished) return;
      if (!there) return noAnswer('the page carrying the channel went away');
      const left = SHELL_BUSY_ACCEPT_TIMEOUT_MS - (Date.now() - started);
      if (left <= 0) return noAnswer(`the page stayed busy for ${SHELL_BUSY_ACCEPT_TIMEOUT_MS} ms`);
      timers.push(setTimeout(() => void unanswered(), Math.min(left, SHELL_LIVENESS_INTERVAL_MS)));
    };
    timers.push(setTimeout(() => void unanswered(), SHELL_ACCEPT_TIMEOUT_MS));
    /**
     * The shell's channel ended before it took the request: a page leaving
     * never reads what was posted to it, so the relay now. Once accepted, the
     * shell aborts what it carries when it leaves (page/client.ts, pagehide).
     */
    function onChannelGone(): void {
      if (!accepted && !settled) noAnswer('the page carrying the channel lost it or is leaving');
    }
    if (shell.channelGone?.aborted) return onChannelGone();
    shell.channelGone?.addEventListener('abort', onChannelGone);

    const onPortMessage = (ev: MessageEvent) => {
      for (const m of unbatch(ev.data, parseShellToSwPort)) {
        if (finished) break;
        handle(m);
      }
    };
    const handle = (m: ShellToSwPort): void => {
      switch (m.t) {
        case 'accept':
          accepted = true;
          for (const t of timers.splice(0)) clearTimeout(t);
          watchAccepted({ finished: () => finished, settled: () => settled, fail, stillThere: () => options.stillThere() }, (t) => (liveness = t));
          if (body) {
            bodySent = true;
            pumpToSender(body, sender).catch((err: unknown) => {
              if (!finished) fail(new ChannelError('ERR_CANCEL', `reading the request body failed: ${(err as Error)?.message ?? err}`, false), true);
            });
          }
          return;
        case 'decline':
          settle({ kind: 'declined', reason: m.reason });
          cleanup();
          return;
        case 'credit':
          sender.credit(m.bytes);
          return;
        case 'head':
          if (receiver || settled) return;
          receiver = createBodyReceiver({
            credit: (bytes) => post({ t: 'credit', bytes }),
            cancel: () => {
              post({ t: 'cancel', reason: 'response body cancelled' });
              cleanup();
            },
          });
          settle(responseOutcome(m, receiver));
          return;
        case 'data':
          receiver?.push(m.chunk);
          return;
        case 'end':
          receiver?.end();
          cleanup();
          return;
        case 'abort':
          fail(new ChannelError(m.code, m.message), false);
          return;
      }
    };
    try {
      port = openExchange(shell, request);
      port.onmessage = onPortMessage;
    } catch {
      settle({ kind: 'declined', reason: 'the page is gone' });
      cleanup();
    }
  });
}
