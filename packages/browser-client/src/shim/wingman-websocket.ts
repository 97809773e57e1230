/**
 * A WebSocket for the app's same-origin sockets that travels over the P2P
 * channel (a 'ws' stream, opened by the shell) and, when there is no channel,
 * is a real WebSocket to the tunnel server (with a one-time ticket that
 * brings the Service Worker jar's cookies). It implements the WebSocket
 * interface as far as dev-server clients use it (Vite's and webpack's HMR).
 * @see https://websockets.spec.whatwg.org/#the-websocket-interface
 */
import { WS_MAX_CLOSE_REASON_BYTES } from '@wingman/protocol';
import { CHANNEL_COMING_WAIT_MS, WS_SHELL_TIMEOUT_MS } from '../shared/constants';
import { parseShellToShimPort, type ShimToShellPort, type WsOpenRequest } from '../shared/messages';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

type Handler<E extends Event> = ((this: WebSocket, ev: E) => unknown) | null;

/** Where the socket's bytes go: the shell's port, or a native WebSocket. */
interface Backend {
  send(data: string | ArrayBuffer): void;
  close(code: number, reason: string): void;
}

/** The close code a browser sends for the sockets of a document that goes away (RFC 6455 §7.4.1, "going away"). */
const GOING_AWAY = 1001;

const encoder = new TextEncoder();

/** The socket's URL as the WebSocket constructor takes it: http(s) becomes ws(s); anything else, or a fragment, throws. */
function socketUrl(url: string | URL): URL {
  const parsed = new URL(String(url), location.href);
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if ((parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') || parsed.hash) {
    throw new DOMException(`Failed to construct 'WebSocket': The URL '${String(url)}' is invalid.`, 'SyntaxError');
  }
  return parsed;
}

function protocolList(protocols: string | string[] | undefined): string[] {
  const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
  if (new Set(list).size !== list.length) throw new DOMException("Failed to construct 'WebSocket': duplicate protocol", 'SyntaxError');
  return list;
}

/** What send() queues: the bytes it adds to bufferedAmount, and the payload (a copy, taken now, of a buffer the app may reuse). */
function outgoing(data: string | ArrayBufferLike | Blob | ArrayBufferView): { bytes: number; payload(): Promise<string | ArrayBuffer> } {
  if (typeof data === 'string') return { bytes: encoder.encode(data).length, payload: async () => data };
  if (data instanceof Blob) return { bytes: data.size, payload: () => data.arrayBuffer() };
  const copy = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer : (data as ArrayBuffer).slice(0);
  return { bytes: copy.byteLength, payload: async () => copy };
}

/** close()'s reason, once its code and reason passed the spec's checks (which throw). */
function checkedClose(code: number | undefined, reason: string | undefined): string {
  if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999)) {
    throw new DOMException(
      `Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
      'InvalidAccessError',
    );
  }
  const why = reason ?? '';
  if (encoder.encode(why).length > WS_MAX_CLOSE_REASON_BYTES)
    throw new DOMException("Failed to execute 'close' on 'WebSocket': The message must not be greater than 123 bytes.", 'SyntaxError');
  return why;
}

/** An on* handler behaves as a listener added first (the common case). */
function callOnHandlers(socket: EventTarget & { [K in 'open' | 'message' | 'error' | 'close' as `on${K}`]: unknown }): void {
  for (const type of ['open', 'message', 'error', 'close'] as const) {
    socket.addEventListener(type, (ev) => {
      const h = socket[`on${type}`] as ((ev: Event) => unknown) | null;
      if (typeof h === 'function') h.call(socket, ev);
    });
  }
}

/** The shell carries the socket: its bytes go on the port it answered on. */
function portBackend(port: MessagePort): Backend {
  return {
    send: (data) => port.postMessage({ t: 'send', data } satisfies ShimToShellPort, typeof data === 'string' ? [] : [data]),
    close: (code, reason) => port.postMessage({ t: 'close', code, reason } satisfies ShimToShellPort),
  };
}

/** How a carried socket goes away with its document: told whether the document may come back (the back/forward cache). */
type GoAway = (persisted: boolean) => void;

/**
 * The sockets the shell carries, each with how it goes away. A document that goes away closes its sockets (the
 * WebSocket standard's "make disappear"): a native socket ends with its document, these are ended here, or the shell
 * would keep carrying them, and the app serving the ones a reloaded frame left behind.
 */
function carriedSockets(): Map<object, GoAway> {
  const carried = new Map<object, GoAway>();
  window.addEventListener('pagehide', (ev: PageTransitionEvent) => {
    for (const goAway of [...carried.values()]) goAway(ev.persisted);
  });
  return carried;
}

interface WingmanWebSocketOptions {
  Native: typeof WebSocket;
  /** Whether `url` (absolute ws:/wss:) should go through the shell. */
  eligible(url: URL): boolean;
  /** Moves `url` before `eligible` looks at it, and says whether it did (shim/app-port.ts). */
  translate?(url: URL): boolean;
  /** The shell's window, or undefined when this document has none. */
  shell(): Window | undefined;
  /** The URL a relayed socket opens: with a ticket for the SW jar's cookies (ws-ticket.ts), or as is; resolves, bounded in time. */
  relayUrl(url: string): Promise<string>;
}

export function createWingmanWebSocketClass(options: WingmanWebSocketOptions): typeof WebSocket {
  const { Native } = options;
  const carried = carriedSockets();

  class WingmanWebSocket extends EventTarget {
    static readonly CONNECTING = CONNECTING;
    static readonly OPEN = OPEN;
    static readonly CLOSING = CLOSING;
    static readonly CLOSED = CLOSED;
    readonly CONNECTING = CONNECTING;
    readonly OPEN = OPEN;
    readonly CLOSING = CLOSING;
    readonly CLOSED = CLOSED;

    readonly url!: string;
    readyState = CONNECTING;
    protocol = '';
    extensions = '';
    bufferedAmount = 0;
    onopen: Handler<Event> = null;
    onmessage: Handler<MessageEvent> = null;
    onerror: Handler<Event> = null;
    onclose: Handler<CloseEvent> = null;
    private type: BinaryType = 'blob';
    private backend: Backend | undefined;
    private sendChain: Promise<void> = Promise.resolve();
    private readonly origin!: string;

    /** `instanceof WebSocket` holds for native sockets too (cross-origin ones are created natively). */
    static override [Symbol.hasInstance](v: unknown): boolean {
      return v instanceof Native || (typeof v === 'object' && v !== null && Object.prototype.isPrototypeOf.call(WingmanWebSocket.prototype, v));
    }

    constructor(url: string | URL, protocols?: string | string[]) {
      super();
      const parsed = socketUrl(url);
      const moved = options.translate?.(parsed) === true;
      const list = protocolList(protocols);
      const shell = options.shell();
      // Anything we do not carry is a plain native WebSocket.
      if (!shell || !options.eligible(parsed)) return new Native(moved ? parsed.href : url, protocols) as unknown as WingmanWebSocket;
      this.url = parsed.href;
      this.origin = parsed.origin;
      callOnHandlers(this);
      this.viaShell(shell, list);
    }

    get binaryType(): BinaryType {
      return this.type;
    }
    set binaryType(v: BinaryType) {
      if (v === 'blob' || v === 'arraybuffer') this.type = v;
    }

    send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (this.readyState === CONNECTING) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
      if (this.readyState !== OPEN || !this.backend) return;
      const backend = this.backend;
      const { bytes, payload } = outgoing(data);
      this.queue(async () => backend.send(await payload()), bytes);
    }

    close(code?: number, reason?: string): void {
      const why = checkedClose(code, reason);
      if (this.readyState === CLOSING || this.readyState === CLOSED) return;
      const wasConnecting = this.readyState === CONNECTING;
      this.readyState = CLOSING;
      if (wasConnecting || !this.backend) {
        // Closing before open fails the connection (spec: error + close 1006).
        this.backend?.close(1000, '');
        this.fail();
        return;
      }
      const backend = this.backend;
      void this.sendChain.then(() => backend.close(code ?? 1000, why));
    }

    private queue(job: () => Promise<void>, bytes: number): void {
      this.bufferedAmount += bytes;
      const sent = () => void (this.bufferedAmount = Math.max(0, this.bufferedAmount - bytes));
      this.sendChain = this.sendChain.then(job).then(sent, sent);
    }

    private opened(protocol: string): void {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.protocol = protocol;
      this.dispatchEvent(new Event('open'));
    }

    private received(data: string | ArrayBuffer): void {
      if (this.readyState !== OPEN && this.readyState !== CLOSING) return;
      const payload = typeof data === 'string' || this.type === 'arraybuffer' ? data : new Blob([data]);
      this.dispatchEvent(new MessageEvent('message', { data: payload, origin: this.origin }));
    }

    private closed(code: number, reason: string, wasClean: boolean): void {
      if (this.readyState === CLOSED) return;
      carried.delete(this);
      this.readyState = CLOSED;
      this.bufferedAmount = 0;
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
    }

    /** The shell's port is let go: told to close the stream with `code` first, unless the shell already gave it up. */
    private leaveShell(port: MessagePort, code?: number): void {
      carried.delete(this);
      if (code !== undefined) port.postMessage({ t: 'close', code, reason: '' } satisfies ShimToShellPort);
      port.close();
    }

    private fail(): void {
      if (this.readyState === CLOSED) return;
      this.dispatchEvent(new Event('error'));
      this.closed(1006, '', false);
    }

    /** Asks the shell to carry the socket; a real WebSocket when it cannot or does not answer in time. */
    private viaShell(shell: Window, protocols: string[]): void {
      const { port1, port2 } = new MessageChannel();
      // Its document goes away: the shell closes the stream now (1001), and the socket is closed without events, unless
      // the document may come back (the back/forward cache): then it sees its socket closed, as a browser reports it.
      carried.set(this, (persisted) => {
        this.leaveShell(port1, GOING_AWAY);
        if (persisted) this.closed(1006, '', false);
        else this.readyState = CLOSED;
      });
      let answered = false;
      const giveUp = () => {
        if (answered) return;
        answered = true;
        this.leaveShell(port1, 1000);
        this.viaNative(protocols);
      };
      let timer = setTimeout(giveUp, WS_SHELL_TIMEOUT_MS);
      port1.onmessage = (ev: MessageEvent) => {
        const m = parseShellToShimPort(ev.data);
        if (!m) return;
        // The shell waits for its channel: it answers later, within CHANNEL_COMING_WAIT_MS.
        if (m.t === 'wait') {
          if (answered) return;
          clearTimeout(timer);
          timer = setTimeout(giveUp, CHANNEL_COMING_WAIT_MS + WS_SHELL_TIMEOUT_MS);
          return;
        }
        if (!answered) {
          answered = true;
          clearTimeout(timer);
          if (m.t === 'fallback') {
            this.leaveShell(port1);
            return this.viaNative(protocols);
          }
          this.backend = portBackend(port1);
        }
        switch (m.t) {
          case 'open':
            return this.opened(m.protocol);
          case 'message':
            return this.received(m.data);
          case 'error':
            return void this.dispatchEvent(new Event('error'));
          case 'close':
            this.leaveShell(port1);
            return this.closed(m.code, m.reason, m.wasClean);
          default:
            return;
        }
      };
      shell.postMessage({ type: 'wingman:ws-open', url: this.url, protocols } satisfies WsOpenRequest, location.origin, [port2]);
    }

    /** Relayed: a native WebSocket, with the SW jar's cookies when a ticket can be had. */
    private viaNative(protocols: string[]): void {
      if (this.readyState === CLOSED) return;
      void options.relayUrl(this.url).then(
        (url) => this.openNative(url, protocols),
        () => this.openNative(this.url, protocols),
      );
    }

    private openNative(url: string, protocols: string[]): void {
      // close() while the ticket was coming already reported the failure.
      if (this.readyState === CLOSED) return;
      let ws: WebSocket;
      try {
        ws = new Native(url, protocols);
      } catch {
        return this.fail();
      }
      ws.binaryType = 'arraybuffer';
      this.backend = { send: (d) => ws.send(d), close: (c, r) => ws.close(c, r) };
      if (this.readyState === CLOSING) ws.close();
      ws.onopen = () => this.opened(ws.protocol);
      ws.onmessage = (ev: MessageEvent) => this.received(ev.data as string | ArrayBuffer);
      ws.onerror = () => this.dispatchEvent(new Event('error'));
      ws.onclose = (ev: CloseEvent) => this.closed(ev.code, ev.reason, ev.wasClean);
    }
  }
  return WingmanWebSocket;
}
