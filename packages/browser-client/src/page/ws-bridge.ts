/**
 * The shell's side of the WebSocket shim: a same-origin WebSocket the app
 * opens becomes a 'ws' stream on the data channel. Without a channel the
 * shim is told to fall back to a real WebSocket (the tunnel server relays
 * it). The agent answers the stream with 101 (open) or another status
 * followed by WS_CLOSE (refused), as ws-forward.ts in the agent documents.
 */
import { acceptLanguage } from '../shared/accept-language';
import {
  isSendableCloseCode,
  messageTooBigReasonFrom,
  ProtocolError,
  WS_CLOSE_MESSAGE_TOO_BIG,
  type Connection,
  type HeaderList,
  type Stream,
} from '@wingman/protocol';
import { WINGMAN_PREFIX, P2P_WS_CLOSE_REPLY_TIMEOUT_MS, P2P_WS_HANDSHAKE_TIMEOUT_MS } from '../shared/constants';
import { header, parseShimToShellPort, type ShellToShimPort, type WsOpenRequest } from '../shared/messages';
import { quietly } from '../shared/quietly';
import { parseUrl } from '../shared/baseline';

interface WsBridgeOptions {
  connection(): Connection | undefined;
  /** Without a connection: a promise of one when a channel is coming up and worth waiting for (channel-wait.ts), else undefined. */
  channelSoon(): Promise<Connection | undefined> | undefined;
  /** The SW jar's Cookie header for an http(s) URL. */
  cookieHeader(url: string): Promise<string>;
}

const decoder = new TextDecoder();

/** The close code to send the peer: a code that may not go on a close frame becomes 1000 (normal). */
function sendable(code: number): number {
  return isSendableCloseCode(code) ? code : 1000;
}

export function createWsBridge(options: WsBridgeOptions): { open(request: WsOpenRequest, port: MessagePort): void } {
  function open(request: WsOpenRequest, port: MessagePort): void {
    // It throws when the frame is gone.
    const post = (m: ShellToShimPort, transfer: Transferable[] = []) => void quietly(() => port.postMessage(m, transfer));
    const url = parseUrl(request.url);
    if (!url) return post({ t: 'fallback', reason: 'invalid URL' });
    if (url.host !== location.host || (url.protocol !== 'ws:' && url.protocol !== 'wss:') || url.pathname.startsWith(WINGMAN_PREFIX)) {
      return post({ t: 'fallback', reason: 'not an app WebSocket of this origin' });
    }
    const soon = options.connection() ? undefined : options.channelSoon();
    if (!options.connection() && !soon) return post({ t: 'fallback', reason: 'no open data channel' });
    if (soon) post({ t: 'wait' });
    const httpUrl = `${location.protocol}//${url.host}${url.pathname}${url.search}`;
    void Promise.all([options.cookieHeader(httpUrl), soon]).then(([cookie]) => {
      const conn = options.connection();
      if (!conn) return post({ t: 'fallback', reason: 'no open data channel' });
      // The fields a browser writes on every handshake (its fetch sends them with cache mode no-store).
      const headers: HeaderList = [
        ['host', location.host],
        ['origin', location.origin],
        ['user-agent', navigator.userAgent],
        ['pragma', 'no-cache'],
        ['cache-control', 'no-cache'],
      ];
      const languages = acceptLanguage(navigator.languages ?? []);
      if (languages) headers.push(['accept-language', languages]);
      if (request.protocols.length > 0) headers.push(['sec-websocket-protocol', request.protocols.join(', ')]);
      if (cookie) headers.push(['cookie', cookie]);
      let stream: Stream;
      try {
        stream = conn.open('ws', { method: 'GET', target: url.pathname + url.search, headers });
      } catch (err) {
        return post({ t: 'fallback', reason: err instanceof ProtocolError ? err.message : String(err) });
      }
      bridge(stream, port, post);
    });
  }

  function bridge(stream: Stream, port: MessagePort, post: (m: ShellToShimPort, transfer?: Transferable[]) => void): void {
    let state: 'connecting' | 'open' | 'closing' | 'closed' = 'connecting';
    let closeTimer: ReturnType<typeof setTimeout> | undefined;
    const openTimer = setTimeout(() => failed('the WebSocket handshake timed out'), P2P_WS_HANDSHAKE_TIMEOUT_MS);

    const closed = (code: number, reason: string, wasClean: boolean) => {
      if (state === 'closed') return;
      state = 'closed';
      clearTimeout(openTimer);
      clearTimeout(closeTimer);
      post({ t: 'close', code, reason, wasClean });
      port.onmessage = null;
      setTimeout(() => port.close(), 0);
    };
    /** Abnormal end: an error event, then close 1006 (what a browser WebSocket reports). */
    const failed = (message: string) => {
      if (state === 'closed') return;
      stream.reset('ERR_CANCEL', message.slice(0, 200));
      post({ t: 'error', message });
      closed(1006, '', false);
    };

    stream.on('response', (head) => {
      if (state !== 'connecting') return;
      clearTimeout(openTimer);
      if (head.status !== 101) return failed(`the app refused the WebSocket (HTTP ${head.status})`);
      state = 'open';
      post({ t: 'open', protocol: header(head.headers, 'sec-websocket-protocol') ?? '' });
    });
    stream.on('message', (data, text) => {
      if (state !== 'open' && state !== 'closing') return;
      if (text) return post({ t: 'message', data: decoder.decode(data) });
      const ab = data.slice().buffer;
      post({ t: 'message', data: ab }, [ab]);
    });
    stream.on('wsClose', (code, reason) => {
      if (state === 'connecting') return failed('the app closed the WebSocket during the handshake');
      // Answer the close (RFC 6455 §5.5.1) unless ours already went.
      if (!stream.localEnded) stream.closeWs(sendable(code), reason);
      closed(code, reason, true);
    });
    stream.on('reset', (error) => {
      // A message over the agent's cap (either way): the app sees 1009, as a
      // browser WebSocket reports a server's "Message Too Big" close.
      if (error.code === 'ERR_MESSAGE_TOO_LARGE' && state === 'open') return closed(WS_CLOSE_MESSAGE_TOO_BIG, messageTooBigReasonFrom(error.message), true);
      failed(error.message);
    });

    port.onmessage = (ev: MessageEvent) => {
      const m = parseShimToShellPort(ev.data);
      if (!m) return;
      if (m.t === 'send') {
        if (state !== 'open') return;
        try {
          stream.sendMessage(typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
        } catch (err) {
          failed(`message not sent: ${(err as Error).message}`);
        }
        return;
      }
      if (state === 'connecting') return failed('closed before the handshake finished');
      if (state !== 'open') return;
      state = 'closing';
      stream.closeWs(sendable(m.code), m.reason);
      closeTimer = setTimeout(() => {
        stream.reset('ERR_CANCEL', 'no close from the app');
        closed(m.code, m.reason, false);
      }, P2P_WS_CLOSE_REPLY_TIMEOUT_MS);
    };
  }

  return { open };
}
