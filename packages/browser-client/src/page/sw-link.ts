/**
 * The shell's link to the Service Worker: registration (workbox-window;
 * scope "/", which the server allows with Service-Worker-Allowed), the
 * announcements the SW routes by, and the SW's requests to carry. The
 * message listener is installed before registration (as workbox-window advises) so
 * nothing the SW sends early is lost.
 */
import { SW_PATH, SW_SCOPE } from '@wingman/protocol';
import { Workbox } from 'workbox-window';
import { COOKIE_QUERY_TIMEOUT_MS, SW_CONTROL_TIMEOUT_MS } from '../shared/constants';
import { createExchangeMux, retirePort, type ExchangeMux, type ExchangePort } from '../shared/exchange-mux';
import { parseSwToWindow, type FetchRequest, type PathsUpdate, type ShellAnnounce } from '../shared/messages';
import { askOverPort, settleWithin } from '../shared/settle-within';

interface SwLinkOptions {
  shellId: string;
  exclude: string[];
  /** A request the SW wants carried over the data channel; the rest of the exchange on `port`. */
  onFetch(request: FetchRequest, port: ExchangePort): void;
  /** The SW's path choice per request class changed. */
  onPaths?(paths: Omit<PathsUpdate, 'type'>): void;
  /** A private session's shell holding the link key: the SW sends every request over its channel, and waits for one. */
  private?: boolean;
}

/** What a shell tells the SW about its channel and its path (ShellAnnounce's fields of the same names). */
export type ShellPathState = Pick<ShellAnnounce, 'p2p' | 'turn' | 'lossy' | 'lossClean' | 'probing' | 'off'>;

/** Writes the SW jar's script-visible cookies with document.cookie, where the SW's Cookie Store API does not write (sw/cookie-mirror.ts). */
function writeCookies(lines: string[], port: MessagePort | undefined): void {
  for (const line of lines) document.cookie = line;
  port?.postMessage({ done: true });
  port?.close();
}

export function createSwLink(options: SwLinkOptions) {
  let state: ShellPathState = { p2p: false };
  const container = 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;

  let requests: MessagePort | undefined;
  let exchanges: ExchangeMux | undefined;
  const onMessage = (ev: MessageEvent) => {
    const m = parseSwToWindow(ev.data);
    if (!m) return;
    if (m.type === 'wingman:sync') return announce(true);
    if (m.type === 'wingman:paths') return options.onPaths?.({ small: m.small, bulk: m.bulk });
    const port = ev.ports[0];
    if (m.type === 'wingman:cookie-write') return writeCookies(m.lines, port);
    if (port) options.onFetch(m, port);
  };
  /**
   * An announcement carries a fresh MessagePort for the SW's requests (a
   * direct pipe) when there is none yet or the SW may have lost it (a new
   * controller, a `wingman:sync`). Status updates reuse it: a port replaced on
   * every update lost the requests just posted on it (the lab's ~1.5 s stalls).
   */
  const announce = (freshPort = false) => {
    const controller = container?.controller;
    if (!controller) return;
    // The state as path-state.ts made it: only the flags that are set.
    const message: ShellAnnounce = {
      type: 'wingman:shell',
      shellId: options.shellId,
      ...state,
      exclude: options.exclude,
      ...(options.private ? { private: true } : {}),
    };
    if (requests && !freshPort) return controller.postMessage(message);
    const { port1, port2 } = new MessageChannel();
    if (requests) retirePort(requests, exchanges);
    requests = port1;
    // The SW's requests on the port (exchanges, shared/exchange-mux.ts).
    const mux = (exchanges = createExchangeMux({
      post: (m, t) => port1.postMessage(m, t),
      onOpen(exchange, first) {
        const m = parseSwToWindow(first);
        if (m?.type === 'wingman:fetch') options.onFetch(m, exchange);
        else exchange.close();
      },
    }));
    port1.onmessage = (ev: MessageEvent) => {
      if (!mux.receive(ev.data)) onMessage(ev);
    };
    controller.postMessage(message, [port2]);
  };

  if (!container) {
    return { controlled: Promise.resolve(false), announce: (_: ShellPathState) => undefined, cookieHeader: (_: string) => Promise.resolve('') };
  }

  container.addEventListener('message', onMessage);
  // Messages from the SW wait in a queue until this is called (or onmessage is set).
  container.startMessages();
  container.addEventListener('controllerchange', () => announce(true));

  const controlled = container.controller
    ? Promise.resolve(true)
    : settleWithin(SW_CONTROL_TIMEOUT_MS, false, (settle) => container.addEventListener('controllerchange', () => settle(true), { once: true }));

  const wb = new Workbox(SW_PATH, { scope: SW_SCOPE });
  wb.register({ immediate: true }).catch((err: unknown) => {
    console.warn('[wingman] Service Worker registration failed; the app uses the relay only.', err);
  });
  if (container.controller) announce(true);

  return {
    /** Resolves true once the SW controls this page, false when it cannot (no SW support, registration failed, timeout). */
    controlled,
    /** Tells the SW about this shell's channel and its path (now, and again whenever the SW asks). */
    announce(next: ShellPathState): void {
      state = next;
      announce();
    },
    /** The SW jar's Cookie header for `url` ('' on any failure or after COOKIE_QUERY_TIMEOUT_MS). */
    cookieHeader(url: string): Promise<string> {
      const controller = container.controller;
      if (!controller) return Promise.resolve('');
      return askOverPort(controller, { type: 'wingman:cookie', url }, COOKIE_QUERY_TIMEOUT_MS, '', (data) => {
        const h = (data as { header?: unknown } | null | undefined)?.header;
        return typeof h === 'string' && h.length < 16_384 ? h : '';
      });
    },
  };
}
