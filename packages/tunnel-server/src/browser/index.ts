/**
 * The tunnel server's side of the browser client: serving the bundles (files from browser-client's build, never its
 * code), recognising the navigations that get the shell, rendering the shell and the diagnostics page, and the cookie
 * bridge for the Service Worker's relay requests. Where each is called: docs/browser-client.md §Tunnel server.
 */
export { createBrowserAssets } from './assets';
export { isBootstrapNavigation } from './bootstrap';
export { renderShell, serveShell, shellConfig, shellInlineScript, SHELL_INLINE_SCRIPT_FILE } from './shell-html';
export { serveDiagnostics } from './diagnostics-html';
export { applySwCookieBridge, applyWsTicketCookies, bridgeSetCookie, bridgeSwResponse, isSwRelayRequest } from './cookie-bridge';
