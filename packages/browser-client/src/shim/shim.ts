/**
 * Injected by the Service Worker at the top of every HTML document it serves
 * to the app frame (before any app script). Replaces window.WebSocket for
 * the app's own origin and links the document to its shell and the SW.
 * Does nothing in a document without a Wingman shell above it.
 */
import { WINGMAN_PREFIX } from '../shared/constants';
import { moveToSession, patchAppPorts, portTable } from './app-port';
import { patchFetchAbort } from './fetch-abort';
import { patchBinaryBodies } from './binary-body';
import { patchStreamUploads } from './stream-upload';
import { linkFrame } from './frame-link';
import { createWingmanWebSocketClass } from './wingman-websocket';
import { requestWsTicket, withWsTicket } from './ws-ticket';

function findShell(): { window: Window; id: string } | undefined {
  try {
    const top = window.top;
    if (!top || top === window) return undefined;
    const marker = (top as unknown as { __wingmanShell?: { id?: unknown } }).__wingmanShell;
    return typeof marker?.id === 'string' ? { window: top, id: marker.id } : undefined;
  } catch {
    // A cross-origin top: not ours.
    return undefined;
  }
}

/** The app's port and its routes', from the shim's own tag (shim/app-port.ts); read now, while this script runs. */
const ports = portTable(document.currentScript?.getAttribute('data-app-port') ?? undefined, document.currentScript?.getAttribute('data-app-routes'));
const shell = findShell();
if (shell && !(window as unknown as { __wingmanShim?: boolean }).__wingmanShim) {
  Object.defineProperty(window, '__wingmanShim', { value: true });
  const Native = window.WebSocket;
  window.WebSocket = createWingmanWebSocketClass({
    Native,
    eligible: (url) => url.host === location.host && !url.pathname.startsWith(WINGMAN_PREFIX),
    translate: (url: URL) => moveToSession(url, ports),
    shell: () => (findShell() ? shell.window : undefined),
    relayUrl: async (url) => withWsTicket(url, await requestWsTicket(url)),
  });
  patchBinaryBodies();
  patchStreamUploads();
  patchFetchAbort();
  // Outside the abort tagging, which then sees the moved URL as the page's own.
  patchAppPorts(ports);
  linkFrame(shell.window, shell.id, window.parent === shell.window);
}
