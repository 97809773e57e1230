/**
 * The route of one intercepted request, P2P or the relay, and why: the only
 * place the Service Worker's routing rules live. Pure: facts in, verdict
 * out; router.ts gathers the facts and carries the verdict out. The reason
 * travels with the request (ROUTE_HEADER) and comes back on the response as
 * `x-wingman-route: <transport>; reason=<reason>`, so "why did this go over
 * the relay?" is answered by one response header and this file.
 *
 * The rules, first match wins:
 *   1. excluded        — the path starts with a prefix the developer keeps on the relay → relay
 *   1b. private        — no channel yet, but a private session's shell is there without
 *                        one (its relay refuses the app's requests; the shell's word that
 *                        its channel opened may still be on its way to the SW) → wait (at
 *                        most CHANNEL_COMING_WAIT_MS), then decide again: over the channel,
 *                        or the relay, whose page says why the session cannot be seen
 *   2. wait-for-channel — no channel yet, one is coming (shared/channel-coming.ts), P2P
 *                        is not stalling and the relay already runs as many requests as
 *                        the browser gives it connections: this one would queue there →
 *                        wait (at most CHANNEL_COMING_WAIT_MS), then decide again
 *   3. no-channel      — no shell has an open channel → relay
 *   3b. prefetch       — the frame document the SW fetches ahead of a top-level
 *                        navigation (frame-prefetch.ts) → relay. Over P2P it would go
 *                        through the channel of the page being left (a reload, a
 *                        link followed in the same tab), which unloads while the app
 *                        answers: the SW then sends the request again over the
 *                        relay, and the app would see one navigation twice (a
 *                        counter counted twice, a form shown twice)
 *   4. (no measurements: a Service Worker without a path chooser) → p2p, default
 *   5. the path chooser's verdict (path-choice.ts) for the request's class, an
 *      upload following bulk downloads: relay when measured faster (`faster`)
 *      or sent to measure it (`probe`); through TURN the relay is the default
 *      (`turn-default`) and P2P has to be measured faster
 *   6. p2p-stalls      — P2P stalls (a lossy link) and this small request would share
 *                        the channel with others → relay
 *   6b. loss-probe     — the same while the channel's loss probe has given no verdict
 *                        yet (ShellAnnounce.probing, at most LOSS_PROBE_HOLD_MS after
 *                        the channel opened): a first visit's wave does not meet the
 *                        losses the probe is about to report → relay
 *   7. otherwise → p2p (`default`, `faster` or `probe`)
 * Before all of these, in the fetch event itself (leaveToBrowser): a script,
 * style sheet, image or font GET the Service Worker would only relay, because P2P stalls and no shell
 * has a channel or the request would share the stalling channel with others
 * (rule 6), is not answered by the Service Worker at all: the browser
 * fetches it as without Wingman (`relay to-browser` in the route counts; the
 * response says `reason=no-service-worker`, as the SW's headers never left).
 * The SW's own relay fetch costs each such request its hops through the
 * Service Worker, which a reload's module wave on a lossy link pays ~1.5×.
 * After a P2P attempt the router records how it ended, with the reasons
 * below: `declined` (the shell would not carry it), `channel-failed` (the
 * channel failed before the head; an idempotent request whose body was not
 * sent is retried over the relay), `race` (the relay leg of a large GET
 * raced on both paths, bulk-race.ts).
 */
import type { Decision, RequestClass } from './path-choice';

export type RoutePath = 'p2p' | 'relay';

export type RouteReason =
  | 'excluded'
  | 'wait-for-channel'
  | 'no-channel'
  | 'default'
  | 'faster'
  | 'probe'
  | 'turn-default'
  | 'p2p-stalls'
  | 'loss-probe'
  | 'declined'
  | 'channel-failed'
  | 'race'
  | 'private'
  | 'to-browser'
  | 'prefetch';

export type RouteVerdict = { path: RoutePath | 'wait'; reason: RouteReason };

export interface RouteFacts {
  /** The path starts with a prefix the developer excluded from P2P. */
  excluded: boolean;
  /** The shell that would carry the request has an open channel; `turn`: through a TURN server. Undefined: no channel. */
  /** The shell's open channel: through TURN; of a private session (nothing may go to the relay). */
  channel: { turn: boolean; private?: boolean } | undefined;
  /** A channel is coming (shared/channel-coming.ts) and this request has not waited for it yet. */
  channelComing: boolean;
  /** A private session's shell has announced itself without an open channel (ShellRegistry.privateWithoutChannel). */
  privateWaiting: boolean;
  /** Requests in flight on the relay now. */
  relayInFlight: number;
  /**
   * Other requests the channel would carry alongside this one: those in
   * flight on P2P, or taken by the Service Worker and not answered yet
   * (path-choice.ts take(): a burst's requests before their routes).
   */
  othersInFlight: number;
  /** The relay's parallel requests (RELAY_PARALLEL_REQUESTS): at this count a new one queues. */
  relayParallel: number;
  /** P2P's small requests stall (path-choice.ts stalls('p2p')). */
  p2pStalls: boolean;
  /** The channel's loss probe has given no verdict yet (ShellPick.probing). */
  probing: boolean;
  /** The request's class; undefined when the SW keeps no measurements. */
  cls: RequestClass | undefined;
  /** A request body of BULK_MIN_BYTES or more. */
  upload: boolean;
  /** The frame document fetched ahead of a top-level navigation (frame-prefetch.ts). */
  prefetch: boolean;
}

/**
 * The chooser, asked only when its verdict matters (it counts the requests
 * it is asked about, for its probes). `fallback`: the path while the
 * figures decide nothing.
 */
export interface Measurements {
  choose(cls: RequestClass, fallback: RoutePath): Decision;
  chooseUpload(fallback: RoutePath): Decision;
}

export function decideRoute(facts: RouteFacts, measurements: Measurements | undefined): RouteVerdict {
  if (facts.excluded) return { path: 'relay', reason: 'excluded' };
  if (!facts.channel) {
    if (facts.privateWaiting) return { path: 'wait', reason: 'private' };
    const relayFull = facts.relayInFlight >= facts.relayParallel;
    if (facts.channelComing && relayFull && !facts.p2pStalls && measurements) return { path: 'wait', reason: 'wait-for-channel' };
    return { path: 'relay', reason: 'no-channel' };
  }
  if (facts.prefetch) return { path: 'relay', reason: 'prefetch' };
  // A private session's relay refuses the app's requests: its channel carries everything.
  if (facts.channel.private) return { path: 'p2p', reason: 'private' };
  if (!measurements || !facts.cls) return { path: 'p2p', reason: 'default' };
  const fallback: RoutePath = facts.channel.turn ? 'relay' : 'p2p';
  const d = facts.upload ? measurements.chooseUpload(fallback) : measurements.choose(facts.cls, fallback);
  if (d.path === 'relay') return { path: 'relay', reason: d.why === 'default' ? 'turn-default' : d.why };
  if (facts.cls === 'small' && !facts.upload && facts.othersInFlight > 0) {
    if (facts.p2pStalls) return { path: 'relay', reason: 'p2p-stalls' };
    if (facts.probing) return { path: 'relay', reason: 'loss-probe' };
  }
  return { path: 'p2p', reason: d.why };
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
  /** Some shell has an open channel (through TURN or not). */
  channel: boolean;
  /** A private session's shell without a channel: its relay refuses the app's requests (rule 1b waits instead). */
  privateWaiting: boolean;
  /** P2P's small requests stall (path-choice.ts stalls('p2p'), observed or remembered). */
  p2pStalls: boolean;
  /** A channel's loss probe has given no verdict yet (ShellRegistry.probingNow): its bursts go around it, as with a stall. */
  probing: boolean;
  /** The SW's jar has cookies for this request the browser's jar lacks; undefined until the jar is read. */
  cookiesToAdd: boolean | undefined;
  /** Requests in flight on P2P, or taken by the Service Worker and not answered yet (RouteFacts.othersInFlight). */
  othersInFlight: number;
  /** The request's class (path-choice.ts requestClass). */
  cls: RequestClass;
}

/**
 * True when the Service Worker leaves the request to the browser (no
 * respondWith): it would go over the relay anyway (P2P stalls, so it would
 * not wait for a coming channel, and either no shell has one or this small
 * request would share it with others, rule 6; or, the same, a channel's loss
 * probe has given no verdict yet, rule 6b) and the SW adds nothing to it
 * (no cookie the browser lacks, no body, no document to rewrite) and its
 * answer should set no cookie (a script, style sheet, image or font). The
 * browser's own request is the relay-only mode's request. A lone request
 * keeps P2P, so the stall verdict can clear.
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
