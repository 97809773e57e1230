/**
 * The tunnel server's side of the browser client: serving the bundles
 * (files from browser-client's build, never its code), recognising the
 * navigations that get the shell, rendering the shell and the diagnostics
 * page, and the cookie bridge for the Service Worker's relay requests.
 * Where each is called: docs/browser-client.md §Tunnel server.
 */
export { createBrowserAssets, defaultBrowserDistDir, type BrowserAssets, type BrowserAssetsOptions } from './assets';
export { isBootstrapNavigation, type RequestLike } from './bootstrap';
export {
  renderShell,
  serveShell,
  shellConfig,
  shellInlineScript,
  SHELL_INLINE_SCRIPT_FILE,
  type ShellConfig,
  type ShellInlineScript,
  type ShellOptions,
} from './shell-html';
export { DIAGNOSTICS_HTML, serveDiagnostics } from './diagnostics-html';
export { applySwCookieBridge, applyWsTicketCookies, bridgeSetCookie, bridgeSwResponse, isSwRelayRequest } from './cookie-bridge';
