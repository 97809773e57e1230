/**
 * The route of one intercepted request and why: the Service Worker's routing rules, pure (router.ts
 * gathers the facts). RULES in order, first match wins, as numbered in docs/browser-client.md §Routing
 * rules. With `pathChoice` off (docs/speed-ledger.md) rule 4 never fires and rule 7 gives `default`.
 */
import type { Decision, PathChooser, RequestClass } from './path-choice';

export type RoutePath = 'p2p' | 'relay';

/** The rules in their order: rule n is RULES[n - 1]. */
export const RULES = ['excluded', 'private', 'no-channel', 'path-choice', 'p2p-stalls', 'loss-probe', 'p2p'] as const;
export type RuleName = (typeof RULES)[number];

export type RouteReason =
  | Exclude<RuleName, 'path-choice' | 'p2p'>
  | Decision['why']
  | 'turn-default'
  // Not rules: how a P2P attempt ended (router.ts), or the fetch event left the request to the browser.
  | 'declined'
  | 'channel-failed'
  | 'body-stalled'
  | 'head-stalled'
  | 'race'
  | 'to-browser';

export type RouteVerdict = { rule: RuleName; path: RoutePath | 'wait'; reason: RouteReason };

export interface RouteFacts {
  excluded: boolean;
  /** The shell's open channel: through TURN; of a private session (nothing may go to the relay). Undefined: no channel. */
  channel: { turn: boolean; private?: boolean } | undefined;
  /** A private session's shell has announced itself without an open channel, and this request has not waited for it yet. */
  privateWaiting: boolean;
  /** Other requests the channel would carry alongside this one (path-choice.ts othersInFlight). */
  othersInFlight: number;
  p2pStalls: boolean;
  /** The channel's loss probe has given no verdict yet (lossy-path.ts probing()). */
  probing: boolean;
  /** Undefined when the SW keeps no measurements. */
  cls: RequestClass | undefined;
  upload: boolean;
  /** The path chooser's verdicts are on: rule 4, and rule 7's reasons (the server's P2P_PATH_CHOICE, sw/switches.ts). */
  pathChoice: boolean;
}

/** The chooser, asked only when its verdict matters (it counts the requests it is asked about, for its probes). */
export type Measurements = Pick<PathChooser, 'choose' | 'chooseUpload'>;

const verdict = (rule: RuleName, path: RouteVerdict['path'], reason: RouteReason): RouteVerdict => ({ rule, path, reason });

export function decideRoute(f: RouteFacts, measurements: Measurements | undefined): RouteVerdict {
  if (f.excluded) return verdict('excluded', 'relay', 'excluded');
  if (f.channel?.private) return verdict('private', 'p2p', 'private');
  if (!f.channel) {
    if (f.privateWaiting) return verdict('private', 'wait', 'private');
    return verdict('no-channel', 'relay', 'no-channel');
  }
  if (!measurements || !f.cls) return verdict('p2p', 'p2p', 'default');
  const fallback: RoutePath = f.channel.turn ? 'relay' : 'p2p';
  const d: Decision = !f.pathChoice ? { path: 'p2p', why: 'default' } : f.upload ? measurements.chooseUpload(fallback) : measurements.choose(f.cls, fallback);
  if (d.path === 'relay') return verdict('path-choice', 'relay', d.why === 'default' ? 'turn-default' : d.why);
  const sharing = f.cls === 'small' && !f.upload && f.othersInFlight > 0;
  if (sharing && f.p2pStalls) return verdict('p2p-stalls', 'relay', 'p2p-stalls');
  if (sharing && f.probing) return verdict('loss-probe', 'relay', 'loss-probe');
  return verdict('p2p', 'p2p', d.why);
}

/**
 * What a page load's wave is made of. A fetch() or XHR may log in: the
 * Set-Cookie on its answer would reach the browser's jar, which never holds
 * the app's HttpOnly cookies (the SW's jar is the truth, and could not read
 * one back), so those stay with the SW.
 */
const LEFT_DESTINATIONS = new Set(['script', 'style', 'image', 'font']);

/** What the fetch event knows at once (respondWith is chosen synchronously) for leaveToBrowser. */
export interface BrowserFacts {
  method: string;
  /** A navigation (a frame's document gets the shim and the cookie rules: always the SW's). */
  navigation: boolean;
  /** Request.destination: only a script, style sheet, image or font is left (LEFT_DESTINATIONS). */
  destination: string;
  /** The shim tagged the request for the SW (its headers must not reach the app). */
  tagged: boolean;
  /** The SW's state after a start is in: the shell registry synced. */
  settled: boolean;
  /** Some shell has an open channel. */
  channel: boolean;
  /** A private session's shell without a channel: its relay refuses the app's requests (rule 2 waits instead). */
  privateWaiting: boolean;
  p2pStalls: boolean;
  /** Some channel's loss probe has given no verdict yet (lossy-path.ts probing()). */
  probing: boolean;
  /** The SW's jar has cookies for this request the browser's jar lacks; undefined until the jar is read. */
  cookiesToAdd: boolean | undefined;
  /** Requests in flight on P2P, or taken by the Service Worker and not answered yet (RouteFacts.othersInFlight). */
  othersInFlight: number;
  cls: RequestClass;
}

/**
 * The pipeline's first step (router.ts): true when the Service Worker
 * leaves the request to the browser (no respondWith), counted as
 * `relay to-browser`. It would go over the relay anyway (rules 3, 5, 6), the
 * SW adds nothing to it (no cookie the browser lacks, no body, no document
 * to rewrite) and its answer should set no cookie. A lone request keeps
 * P2P, so the stall verdict can clear.
 */
export function leaveToBrowser(f: BrowserFacts): boolean {
  if (!LEFT_DESTINATIONS.has(f.destination)) return false;
  if (f.navigation || f.tagged || !f.settled || f.privateWaiting || !(f.p2pStalls || (f.probing && f.channel))) return false;
  if (f.channel && (f.cls !== 'small' || f.othersInFlight === 0)) return false;
  if (f.method !== 'GET' && f.method !== 'HEAD') return false;
  return f.cookiesToAdd === false;
}

/** The response header's value: `p2p; reason=default`. */
export function routeHeaderValue(path: RoutePath, reason: RouteReason): string {
  return `${path}; reason=${reason}`;
}
