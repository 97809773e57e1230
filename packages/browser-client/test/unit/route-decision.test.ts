/**
 * The Service Worker's routing rules, one row each: the facts that make the
 * rule fire and the verdict it gives (src/sw/route-decision.ts).
 */
import type { Decision, RequestClass } from '../../src/sw/path-choice';
import {
  decideRoute,
  leaveToBrowser,
  routeHeaderValue,
  RULES,
  type BrowserFacts,
  type Measurements,
  type RouteFacts,
  type RouteReason,
  type RouteVerdict,
} from '../../src/sw/route-decision';
import { ROUTE_REASON_PATTERN } from '@wingman/protocol';

const base: RouteFacts = {
  excluded: false,
  channel: { turn: false },
  privateWaiting: false,
  othersInFlight: 0,
  p2pStalls: false,
  probing: false,
  cls: 'small',
  upload: false,
  pathChoice: true,
};

/** A chooser that answers `d` and records what it was asked. */
function chooser(d: Decision): Measurements & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    choose(cls: RequestClass, fallback) {
      asked.push(`choose ${cls} ${fallback}`);
      return d;
    },
    chooseUpload(fallback) {
      asked.push(`upload ${fallback}`);
      return d;
    },
  };
}

const p2pDefault: Decision = { path: 'p2p', why: 'default' };

type Expected = Omit<RouteVerdict, 'rule'>;
const relay = (reason: RouteVerdict['reason']): Expected => ({ path: 'relay', reason });
const p2p = (reason: RouteVerdict['reason']): Expected => ({ path: 'p2p', reason });

describe('decideRoute', () => {
  /** Rule number (RULES[n - 1]), the case, the facts over `base`, what the chooser answers (undefined: no chooser), the verdict. */
  const rows: Array<[number, string, Partial<RouteFacts>, Decision | undefined, Expected]> = [
    [1, 'an excluded path goes over the relay, channel or not', { excluded: true }, p2pDefault, relay('excluded')],
    [1, 'an excluded path without a channel', { excluded: true, channel: undefined }, p2pDefault, relay('excluded')],
    [
      2,
      "a private session's channel carries everything",
      { channel: { turn: false, private: true }, p2pStalls: true, othersInFlight: 3 },
      p2pDefault,
      p2p('private'),
    ],
    [
      2,
      'the loss probe is pending in a private session: its channel',
      { probing: true, othersInFlight: 3, channel: { turn: false, private: true } },
      p2pDefault,
      p2p('private'),
    ],
    [
      2,
      "no channel, a private session's shell without one: wait for it (the relay refuses the app's requests)",
      { channel: undefined, privateWaiting: true },
      p2pDefault,
      { path: 'wait', reason: 'private' },
    ],
    [3, 'no channel', { channel: undefined }, p2pDefault, relay('no-channel')],
    [3, 'no channel, and no chooser', { channel: undefined }, undefined, relay('no-channel')],
    [4, 'the chooser measured the relay faster', {}, { path: 'relay', why: 'faster' }, relay('faster')],
    [4, 'the chooser probes the relay', { cls: 'bulk' }, { path: 'relay', why: 'probe' }, relay('probe')],
    [4, 'through TURN the relay is the default', { channel: { turn: true } }, { path: 'relay', why: 'default' }, relay('turn-default')],
    [
      5,
      'the path choice switched off, P2P stalls and a small request would share the channel: the stall still says it',
      { pathChoice: false, p2pStalls: true, othersInFlight: 1 },
      { path: 'relay', why: 'faster' },
      relay('p2p-stalls'),
    ],
    [5, 'P2P stalls and a small request would share the channel', { p2pStalls: true, othersInFlight: 1 }, p2pDefault, relay('p2p-stalls')],
    [5, 'P2P stalls and the loss probe is pending: the stall says it', { probing: true, p2pStalls: true, othersInFlight: 1 }, p2pDefault, relay('p2p-stalls')],
    [
      6,
      "the channel's loss probe is pending and a small request would share the channel",
      { probing: true, othersInFlight: 1 },
      p2pDefault,
      relay('loss-probe'),
    ],
    [7, 'a channel and no measurements: P2P', { cls: undefined }, undefined, p2p('default')],
    [
      7,
      'the chooser measured the relay faster, but the path choice is switched off (P2P_PATH_CHOICE=false)',
      { pathChoice: false },
      { path: 'relay', why: 'faster' },
      p2p('default'),
    ],
    [
      7,
      'through TURN with the path choice switched off: P2P, not the relay by default',
      { channel: { turn: true }, pathChoice: false },
      { path: 'relay', why: 'default' },
      p2p('default'),
    ],
    [7, 'a channel, no measurements, P2P stalling and a burst: P2P', { cls: undefined, p2pStalls: true, othersInFlight: 3 }, undefined, p2p('default')],
    [7, 'through TURN, P2P measured faster', { channel: { turn: true } }, { path: 'p2p', why: 'faster' }, p2p('faster')],
    [7, 'P2P stalls but the channel is idle', { p2pStalls: true, othersInFlight: 0 }, p2pDefault, p2p('default')],
    [7, 'P2P stalls but the request is bulk', { p2pStalls: true, othersInFlight: 3, cls: 'bulk' }, p2pDefault, p2p('default')],
    [7, 'P2P stalls but the request is an upload', { p2pStalls: true, othersInFlight: 3, upload: true }, p2pDefault, p2p('default')],
    [7, 'the loss probe is pending but the channel is idle', { probing: true, othersInFlight: 0 }, p2pDefault, p2p('default')],
    [7, 'the loss probe is pending but the request is bulk', { probing: true, othersInFlight: 3, cls: 'bulk' }, p2pDefault, p2p('default')],
    [7, 'the loss probe is pending but the request is an upload', { probing: true, othersInFlight: 3, upload: true }, p2pDefault, p2p('default')],
    [7, 'otherwise P2P, with the chooser’s reason', {}, { path: 'p2p', why: 'probe' }, p2p('probe')],
  ];

  it.each(rows)('rule %i: %s', (rule, _name, facts, decision, expected) => {
    const m = decision ? chooser(decision) : undefined;
    expect(decideRoute({ ...base, ...facts }, m)).toEqual({ rule: RULES[rule - 1], ...expected });
  });

  it('has a row for every rule, numbered 1…N in order', () => {
    expect([...new Set(rows.map(([rule]) => rule))]).toEqual(RULES.map((_, i) => i + 1));
  });

  /** Facts that match both rules: the first one wins. */
  const firstMatch: Array<[number, number, Partial<RouteFacts>, Decision]> = [
    [1, 2, { excluded: true, channel: { turn: false, private: true } }, p2pDefault],
    [2, 3, { channel: undefined, privateWaiting: true }, p2pDefault],
    [2, 5, { channel: { turn: false, private: true }, p2pStalls: true, othersInFlight: 1 }, p2pDefault],
    [4, 5, { p2pStalls: true, othersInFlight: 1 }, { path: 'relay', why: 'faster' }],
    [5, 6, { p2pStalls: true, probing: true, othersInFlight: 1 }, p2pDefault],
    [6, 7, { probing: true, othersInFlight: 1 }, p2pDefault],
  ];
  it.each(firstMatch)('rule %i comes before rule %i', (first, _later, facts, decision) => {
    expect(decideRoute({ ...base, ...facts }, chooser(decision)).rule).toBe(RULES[first - 1]);
  });

  it('asks the chooser only when a channel is up, with the relay as fallback through TURN and the upload rule for uploads', () => {
    const m = chooser(p2pDefault);
    decideRoute({ ...base, channel: undefined }, m);
    decideRoute({ ...base, excluded: true }, m);
    expect(m.asked).toEqual([]);
    decideRoute({ ...base, channel: { turn: true }, cls: 'bulk' }, m);
    decideRoute({ ...base, upload: true }, m);
    expect(m.asked).toEqual(['choose bulk relay', 'upload p2p']);
  });

  it('does not ask the chooser while the path choice is switched off', () => {
    const m = chooser({ path: 'relay', why: 'probe' });
    decideRoute({ ...base, pathChoice: false, cls: 'bulk' }, m);
    decideRoute({ ...base, pathChoice: false, upload: true }, m);
    expect(m.asked).toEqual([]);
  });

  it('writes the response header value as transport and reason', () => {
    expect(routeHeaderValue('relay', 'turn-default')).toBe('relay; reason=turn-default');
  });
});

describe('leaveToBrowser', () => {
  const stalling: BrowserFacts = {
    method: 'GET',
    navigation: false,
    destination: 'script',
    tagged: false,
    settled: true,
    channel: false,
    privateWaiting: false,
    p2pStalls: true,
    probing: false,
    cookiesToAdd: false,
    othersInFlight: 0,
    cls: 'small',
  };
  /** A channel is up, P2P stalls and the request would share the channel (rule 5 would relay it). */
  const sharing: BrowserFacts = { ...stalling, channel: true, othersInFlight: 3 };
  it('leaves a GET or HEAD to the browser while P2P stalls, no shell has a channel and the SW has no cookie to add', () => {
    expect(leaveToBrowser(stalling)).toBe(true);
    expect(leaveToBrowser({ ...stalling, method: 'HEAD' })).toBe(true);
    for (const destination of ['style', 'image', 'font']) expect(leaveToBrowser({ ...stalling, destination })).toBe(true);
    // Without a channel, its class and what is in flight do not matter: the SW would relay it all the same.
    expect(leaveToBrowser({ ...stalling, cls: 'bulk', othersInFlight: 5 })).toBe(true);
  });
  it('leaves a small one to the browser with a channel up when it would share the stalling channel with others', () => {
    expect(leaveToBrowser(sharing)).toBe(true);
  });
  it("does the same while the channel's loss probe has given no verdict yet, and not for a pending probe without a channel", () => {
    expect(leaveToBrowser({ ...sharing, p2pStalls: false, probing: true })).toBe(true);
    expect(leaveToBrowser({ ...sharing, p2pStalls: false, probing: true, othersInFlight: 0 })).toBe(false);
    expect(leaveToBrowser({ ...stalling, p2pStalls: false, probing: true })).toBe(false);
  });
  const withChannel: Array<[string, Partial<BrowserFacts>]> = [
    ['nothing else is in flight on P2P (a lone request keeps P2P, and can clear the verdict)', { othersInFlight: 0 }],
    ['a bulk request (the path chooser picks its path by throughput)', { cls: 'bulk' }],
    ['P2P does not stall', { p2pStalls: false }],
    ['the SW has cookies the browser lacks', { cookiesToAdd: true }],
  ];
  it.each(withChannel)('keeps it in the SW with a channel up when %s', (_name, facts) => {
    expect(leaveToBrowser({ ...sharing, ...facts })).toBe(false);
  });
  const rows: Array<[string, Partial<BrowserFacts>]> = [
    ['P2P does not stall', { p2pStalls: false }],
    ['a shell has a channel and nothing else is in flight on P2P (lone requests keep P2P)', { channel: true }],
    ["a private session's shell waits for its channel (its relay refuses the app's requests)", { privateWaiting: true }],
    ['the SW just started (its shell registry not synced yet)', { settled: false }],
    ['the cookie jar is not read yet', { cookiesToAdd: undefined }],
    ['the SW has cookies the browser lacks', { cookiesToAdd: true }],
    ['a request with a body', { method: 'POST' }],
    ['a navigation (the frame document gets the shim)', { navigation: true }],
    ['a request the shim tagged for the SW', { tagged: true }],
    ['a fetch() or XHR (its answer may set an HttpOnly cookie)', { destination: '' }],
  ];
  it.each(rows)('keeps it in the SW when %s', (_name, facts) => {
    expect(leaveToBrowser({ ...stalling, ...facts })).toBe(false);
  });
});

describe('the route header', () => {
  /** Every reason the SW may send, by the type: a reason added to RouteReason fails to compile here until listed. */
  const REASONS: Record<RouteReason, true> = {
    excluded: true,
    private: true,
    'no-channel': true,
    'p2p-stalls': true,
    'loss-probe': true,
    default: true,
    probe: true,
    faster: true,
    'turn-default': true,
    declined: true,
    'channel-failed': true,
    'body-stalled': true,
    'head-stalled': true,
    race: true,
    'to-browser': true,
  };
  it.each(Object.keys(REASONS))('carries the reason %s as the agent echoes it, not as a request from no Service Worker', (reason) => {
    expect(reason).toMatch(ROUTE_REASON_PATTERN);
    expect(routeHeaderValue('relay', reason as RouteReason)).toBe(`relay; reason=${reason}`);
  });
});
