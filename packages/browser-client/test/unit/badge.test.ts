/**
 * The badge's words for every state the shell can be in (page/badge.ts
 * badgeText, the reasons of page/attempt-types.ts and page/p2p.ts). Each
 * state is also produced for real, in a browser against the real stack:
 *
 *   Relay · connecting                     e2e/badge-states.test.ts (signaling held)
 *   Relay · signaling failed (· reconnecting, · gave up)
 *                                          e2e/badge-states.test.ts (signaling refused)
 *   Relay · agent offline (· reconnecting) e2e/agent-restart.test.ts
 *   Relay · P2P disabled by server/agent   e2e/agent-restart.test.ts (back with --no-p2p)
 *   Relay · ICE failed                     e2e/badge-states.test.ts (fingerprints rewritten, no key)
 *   Relay · ICE timeout                    e2e/badge-states.test.ts (frozen P2P host)
 *   Relay · channel unresponsive           e2e/badge-states.test.ts (frozen P2P host: the page's
 *                                          heartbeat or the browser's ICE checks, whichever
 *                                          notices first)
 *   Relay · refused by agent               e2e/badge-states.test.ts (P2P host dies before answering)
 *   Relay · channel closed (· reconnecting) e2e/host-crash.test.ts, recovery.test.ts
 *   Relay · signaling was altered          e2e/verified.test.ts
 *   Relay · no WebRTC in this browser      e2e/webkit.test.ts, relay.test.ts
 *   Relay · the app runs its own Service Worker  e2e/own-service-worker.test.ts
 *   P2P · verified · N ms                  e2e/verified.test.ts
 *   P2P · unverified · N ms                e2e/p2p.test.ts, agent-restart.test.ts, host-crash.test.ts
 *   Relay · channel not verified           e2e/badge-states.test.ts (an agent sending a wrong
 *                                          binding proof: signaling's MACs pass, the binding does not)
 *   P2P · … · bulk via relay               e2e/path-choice.test.ts, bulk-race.test.ts
 *   P2P · … · small + bulk via relay       test/lab/lab.test.ts (symmetric-nat: a channel through TURN)
 *   P2P · … · small via relay              this file only (through TURN once P2P measured faster for bulk)
 *   P2P · N ms with P2P slower for small   e2e/badge-paths.test.ts (P2P sends delayed: no class named)
 */
import { badgeText } from '../../src/page/badge';
import type { TransportStatus } from '../../src/page/p2p';
import { ATTEMPT_REASON_WORDS } from '../../src/page/attempt-types';

const p2p = (extra: Partial<Extract<TransportStatus, { transport: 'p2p' }>> = {}): TransportStatus => ({
  transport: 'p2p',
  rttMs: undefined,
  connectMs: 300,
  viewerId: 'v1',
  verified: false,
  ...extra,
});

describe("the badge's words", () => {
  it('names the reason the page is on the relay', () => {
    expect(badgeText({ transport: 'relay', reason: 'connecting' })).toBe('Relay · connecting');
    expect(Object.values(ATTEMPT_REASON_WORDS).map((reason) => badgeText({ transport: 'relay', reason }))).toEqual([
      'Relay · P2P disabled by server/agent',
      'Relay · agent offline',
      'Relay · signaling failed',
      'Relay · ICE timeout',
      'Relay · ICE failed',
      'Relay · refused by agent',
      'Relay · no WebRTC in this browser',
      'Relay · channel not verified',
      'Relay · signaling was altered',
    ]);
    // A relay status never speaks of paths: the relay carries everything.
    expect(badgeText({ transport: 'relay', reason: 'channel closed · reconnecting' }, { small: 'p2p', bulk: 'relay' })).toBe(
      'Relay · channel closed · reconnecting',
    );
  });

  it('says whether a P2P channel is verified, and its round trip once measured', () => {
    expect(badgeText(p2p())).toBe('P2P · unverified');
    expect(badgeText(p2p({ verified: true, rttMs: 3.25 }))).toBe('P2P · verified · 3.3 ms');
    expect(badgeText(p2p({ rttMs: 42.6 }))).toBe('P2P · unverified · 43 ms');
  });

  it('names each class of requests the relay carries while P2P is up, and none when P2P carries both', () => {
    const up = p2p({ verified: true, rttMs: 12 });
    expect(badgeText(up, { small: 'p2p', bulk: 'p2p' })).toBe('P2P · verified · 12 ms');
    expect(badgeText(up, { small: 'p2p', bulk: 'relay' })).toBe('P2P · verified · 12 ms · bulk via relay');
    expect(badgeText(up, { small: 'relay', bulk: 'p2p' })).toBe('P2P · verified · 12 ms · small via relay');
    expect(badgeText(up, { small: 'relay', bulk: 'relay' })).toBe('P2P · verified · 12 ms · small + bulk via relay');
  });
});
