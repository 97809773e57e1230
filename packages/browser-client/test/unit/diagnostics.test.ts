import { DIAGNOSTICS_MAX_ERRORS } from '../../src/shared/constants';
import {
  buildReport,
  MAX_DIAG_CHANNELS,
  parseDiagChannels,
  parseDiagReply,
  parseDiagRequest,
  parseDiagRoutes,
  scrubText,
  summarizeStats,
  type PageFacts,
  type StatsEntry,
} from '../../src/shared/diagnostics';

const snapshot = {
  sessionId: 'abc',
  shellId: 'a1',
  transport: 'p2p',
  rttMs: 1.5,
  ice: { local: 'host', remote: 'srflx', protocol: 'udp' },
  bytesSent: 10,
  bytesReceived: 20,
  errors: [],
};
const reply = (s: unknown, id = 'r1') => ({ type: 'wingman:diag-reply', id, snapshot: s });
const facts = (session: unknown): PageFacts => ({
  generatedAt: '2026-01-01T00:00:00.000Z',
  userAgent: 'UA',
  url: 'http://abc.localhost',
  serviceWorker: 'none',
  session,
});

describe('diagnostics messages (any same-origin script can post on the channel)', () => {
  it('accepts a request with a short id and nothing else', () => {
    expect(parseDiagRequest({ type: 'wingman:diag-request', id: 'r1' })).toEqual({ type: 'wingman:diag-request', id: 'r1' });
    expect(parseDiagRequest({ type: 'wingman:diag-request', id: 'x'.repeat(65) })).toBeUndefined();
    expect(parseDiagRequest({ type: 'wingman:diag-request', id: '<b>' })).toBeUndefined();
    expect(parseDiagRequest({ type: 'other', id: 'r1' })).toBeUndefined();
    expect(parseDiagRequest(null)).toBeUndefined();
  });

  it('accepts a well-formed reply to its own request only', () => {
    expect(parseDiagReply(reply(snapshot), 'r1')).toEqual(snapshot);
    expect(parseDiagReply(reply(snapshot, 'r2'), 'r1')).toBeUndefined();
  });

  it('refuses replies with unknown candidate types, bad numbers, long text or too many errors', () => {
    expect(parseDiagReply(reply({ ...snapshot, ice: { local: '10.0.0.1', remote: 'host', protocol: 'udp' } }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, rttMs: -1 }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, bytesSent: Infinity }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, transport: 'carrier-pigeon' }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, reason: 'x'.repeat(201) }), 'r1')).toBeUndefined();
    const error = { at: '2026-01-01T00:00:00.000Z', code: 'ice-timeout', message: 'ICE timeout' };
    expect(parseDiagReply(reply({ ...snapshot, errors: Array(DIAGNOSTICS_MAX_ERRORS).fill(error) }), 'r1')?.errors).toHaveLength(DIAGNOSTICS_MAX_ERRORS);
    expect(parseDiagReply(reply({ ...snapshot, errors: Array(DIAGNOSTICS_MAX_ERRORS + 1).fill(error) }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, errors: [{ ...error, code: 'Bad Code' }] }), 'r1')).toBeUndefined();
  });

  it("carries the loss probe's figures, and refuses ones no probe could give", () => {
    const loss = { sent: 128, lost: 6, lossy: true };
    expect(parseDiagReply(reply({ ...snapshot, loss }), 'r1')?.loss).toEqual(loss);
    expect(parseDiagReply(reply({ ...snapshot, loss: { ...loss, lost: 129 } }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, loss: { ...loss, sent: 1.5 } }), 'r1')).toBeUndefined();
    expect(parseDiagReply(reply({ ...snapshot, loss: { ...loss, lossy: 'yes' } }), 'r1')).toBeUndefined();
  });

  it('masks addresses in free text', () => {
    expect(scrubText('connect to 192.168.1.20:3478 failed')).toBe('connect to <address>:3478 failed');
    expect(scrubText('peer fe80::1:2 gone')).toBe('peer <address> gone');
    expect(parseDiagReply(reply({ ...snapshot, errors: [{ at: 't', code: 'signaling', message: 'from 10.1.2.3' }] }), 'r1')?.errors[0]?.message).toBe(
      'from <address>',
    );
  });
});

describe('summarizeStats', () => {
  const base: StatsEntry[] = [
    { id: 'L', type: 'local-candidate', candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp', address: '10.0.0.1' },
    { id: 'R', type: 'remote-candidate', candidateType: 'srflx', protocol: 'udp', address: '203.0.113.9' },
    { id: 'L2', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
    { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', state: 'succeeded', nominated: true, bytesSent: 5, bytesReceived: 6 },
    { id: 'P2', type: 'candidate-pair', localCandidateId: 'L2', remoteCandidateId: 'R', state: 'failed' },
    { id: 'D', type: 'data-channel', bytesSent: 100, bytesReceived: 200 },
  ];

  it('takes the transport’s selected pair, types only, and the data channel’s bytes', () => {
    const out = summarizeStats([...base, { id: 'T', type: 'transport', selectedCandidatePairId: 'P' }]);
    expect(out).toEqual({ ice: { local: 'relay', remote: 'srflx', protocol: 'udp', relayProtocol: 'tcp' }, bytesSent: 100, bytesReceived: 200 });
    expect(JSON.stringify(out)).not.toMatch(/10\.0\.0\.1|203\.0/);
  });

  it('falls back to the nominated succeeded pair and its bytes when there is no transport or channel entry', () => {
    const out = summarizeStats(base.filter((e) => e.type !== 'data-channel'));
    expect(out).toEqual({ ice: { local: 'relay', remote: 'srflx', protocol: 'udp', relayProtocol: 'tcp' }, bytesSent: 5, bytesReceived: 6 });
  });

  it('reports nothing from an empty report', () => {
    expect(summarizeStats([])).toEqual({});
  });
});

describe('parseDiagChannels', () => {
  const reply = (channels: unknown, id = 'abc') => ({ type: 'wingman:diag-routes', id, routes: {}, channels });

  it('takes the shells the Service Worker knows to have a channel', () => {
    expect(parseDiagChannels(reply(['0123456789abcdef01234567', 'a1']), 'abc')).toEqual(['0123456789abcdef01234567', 'a1']);
    expect(parseDiagChannels(reply([]), 'abc')).toEqual([]);
  });

  it('refuses another request id, no list (an older Service Worker), an id with other characters, and too many ids', () => {
    expect(parseDiagChannels(reply(['a1'], 'other'), 'abc')).toBeUndefined();
    expect(parseDiagChannels({ type: 'wingman:diag-routes', id: 'abc', routes: {} }, 'abc')).toBeUndefined();
    expect(parseDiagChannels(reply(['<img src=x>']), 'abc')).toBeUndefined();
    expect(parseDiagChannels(reply([7]), 'abc')).toBeUndefined();
    expect(parseDiagChannels(reply(Array.from({ length: MAX_DIAG_CHANNELS + 1 }, (_, i) => `s${i}`)), 'abc')).toBeUndefined();
  });
});

describe('buildReport', () => {
  it('sums up from the shells, preferring one on P2P, sorted by shell id', () => {
    const relay = { sessionId: 'abc', shellId: 'b2', transport: 'relay' as const, reason: 'ICE timeout', errors: [] };
    const p2p = { sessionId: 'abc', shellId: 'c3', transport: 'p2p' as const, errors: [] };
    expect(buildReport(facts({}), [p2p, relay])).toMatchObject({ transport: 'p2p', shells: [relay, p2p] });
    expect(buildReport(facts({}), [relay])).toMatchObject({ transport: 'relay', why: 'ICE timeout' });
  });

  it("carries the Service Worker's shells with a channel, sorted, when it answered", () => {
    const p2p = { sessionId: 'abc', shellId: 'c3', transport: 'p2p' as const, errors: [] };
    expect(buildReport(facts({}), [p2p], {}, ['c3', 'a1'])).toMatchObject({ swChannels: ['a1', 'c3'] });
    expect(buildReport(facts({}), [p2p])).not.toHaveProperty('swChannels');
  });

  it('without shells says what the session allows', () => {
    expect(buildReport(facts({ p2p: { enabled: false, serverEnabled: true, agentOffered: false } }), [])).toMatchObject({
      transport: 'relay',
      why: 'P2P disabled by the agent',
    });
    expect(buildReport(facts({ p2p: { enabled: false, serverEnabled: false, agentOffered: true } }), [])).toMatchObject({
      transport: 'relay',
      why: 'P2P disabled by the server',
    });
    expect(buildReport(facts('HTTP 401'), [])).toMatchObject({ transport: 'unknown', why: 'no tab of the app is open in this browser' });
  });
});

describe('parseDiagRoutes', () => {
  const reply = (routes: unknown) => ({ type: 'wingman:diag-routes', id: 'abc', routes });

  it("takes the Service Worker's counts by route", () => {
    expect(parseDiagRoutes(reply({ 'p2p default': 12, 'relay no-channel': 3 }), 'abc')).toEqual({ 'p2p default': 12, 'relay no-channel': 3 });
    // A reason with a digit: one such key once dropped the whole reply.
    expect(parseDiagRoutes(reply({ 'p2p default': 2, 'relay p2p-stalls': 5 }), 'abc')).toEqual({ 'p2p default': 2, 'relay p2p-stalls': 5 });
  });

  it('refuses another request id, an unknown path, a key with other characters, a fractional or negative count, and too many kinds', () => {
    expect(parseDiagRoutes(reply({ 'p2p default': 1 }), 'other')).toBeUndefined();
    expect(parseDiagRoutes(reply({ 'tcp default': 1 }), 'abc')).toBeUndefined();
    expect(parseDiagRoutes(reply({ 'p2p <img src=x>': 1 }), 'abc')).toBeUndefined();
    expect(parseDiagRoutes(reply({ 'p2p default': 1.5 }), 'abc')).toBeUndefined();
    expect(parseDiagRoutes(reply({ 'p2p default': -1 }), 'abc')).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p2p r${String.fromCharCode(97 + (i % 26))}${'x'.repeat(Math.floor(i / 26))}`, 1]));
    expect(parseDiagRoutes(reply(many), 'abc')).toBeUndefined();
  });
});
