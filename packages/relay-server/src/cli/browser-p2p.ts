/**
 * Whether a reviewer's browser can go peer-to-peer on a session link: Service
 * Workers need a secure context (https, or http on localhost, *.localhost,
 * loopback), so a plain-http public link is relay only.
 */
import { isLoopbackHost } from '../loopback-host';

/** What the banner says about the path a session's viewers take. */
export type BrowserP2P = 'on' | 'off' | 'insecure-link';

export function browserP2P(p2p: boolean, sessionUrl: string): BrowserP2P {
  if (!p2p) return 'off';
  const u = new URL(sessionUrl);
  // `localhost`, `*.localhost` (RFC 6761 §6.3), 127.0.0.0/8 and [::1]: secure contexts even over http.
  return u.protocol === 'https:' || isLoopbackHost(u.hostname) ? 'on' : 'insecure-link';
}

/** The words for each after "forwarding to <target>", in the banner and the terminal view's header alike (short: the header is one screen line). */
export const BROWSER_P2P_WORDS: Readonly<Record<BrowserP2P, string>> = {
  on: 'peer-to-peer when possible, relay otherwise',
  off: 'relay',
  'insecure-link': 'relay: browsers go peer-to-peer on https:// links (or *.localhost) only',
};
