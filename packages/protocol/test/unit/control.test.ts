/**
 * The agent control channel and signaling parsers: every example in
 * docs/PROTOCOL.md parses, and malformed messages are refused with
 * ERR_INVALID_PAYLOAD.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accessLabelOf,
  MAX_ADDRESS_RULES,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_SESSION_EXPIRY_MS,
  MAX_VIEWER_PASSWORD_CHARS,
  MIN_SESSION_EXPIRY_MS,
  parseAgentMessage,
  parseHostSignal,
  parseServerMessage,
  parseSignalHello,
  parseViewerSignal,
  ProtocolError,
  SPEED_SWITCHES,
  type RegisterMessage,
} from '@wingman/protocol';

const SPEC = readFileSync(join(__dirname, '../../../../docs/PROTOCOL.md'), 'utf8');

/** The ```json blocks of the spec. */
function jsonExamples(): string[] {
  return [...SPEC.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function refused(fn: () => unknown, detail: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).code).toBe('ERR_INVALID_PAYLOAD');
  expect((caught as ProtocolError).message).toMatch(detail);
}

/** Messages the agent sends; the others come from the server (`hello` on the signaling socket). */
const AGENT_TYPES = new Set(['register', 'peer-report', 'viewer-decision']);

describe('docs/PROTOCOL.md examples', () => {
  const examples = jsonExamples();

  it('has examples of every control message', () => {
    const types = examples.map((e) => (JSON.parse(e) as { type: string }).type);
    expect(new Set(types)).toEqual(
      new Set(['register', 'registered', 'error', 'signal', 'peer-report', 'hello', 'viewer', 'viewer-gone', 'viewer-decision', 'ice-servers']),
    );
  });

  it.each(examples.map((e) => [(JSON.parse(e) as { type: string }).type, e]))('parses the %s example', (type, text) => {
    const parsed = type === 'hello' ? parseSignalHello(text) : AGENT_TYPES.has(type) ? parseAgentMessage(text) : parseServerMessage(text);
    expect(parsed).toEqual(JSON.parse(text));
  });
});

describe('control message validation', () => {
  const register = { type: 'register', version: 1, p2p: true, client: 'wingman/0.1.0' };

  it("reads a register's address rules and refuses any other shape", () => {
    const rules = { allow: ['10.0.0.0/8'], deny: ['2001:db8::/32'] };
    expect((parseAgentMessage(JSON.stringify({ ...register, addressRules: rules })) as RegisterMessage).addressRules).toEqual(rules);
    const withRules = (addressRules: unknown) => () => parseAgentMessage(JSON.stringify({ ...register, addressRules }));
    refused(withRules(['10.0.0.0/8']), /"addressRules" must be an object/);
    refused(withRules({ allow: ['10.0.0.0/8'] }), /"addressRules.deny" must be a list/);
    refused(withRules({ allow: [], deny: [], extra: [] }), /unknown field "extra"/);
    refused(withRules({ allow: [], deny: [] }), /names no CIDR/);
    refused(withRules({ allow: [7], deny: [] }), /not a CIDR of 1-49 chars/);
    refused(withRules({ allow: ['x'.repeat(50)], deny: [] }), /not a CIDR of 1-49 chars/);
    refused(withRules({ allow: Array(MAX_ADDRESS_RULES + 1).fill('10.0.0.0/8'), deny: [] }), /at most 64 CIDRs/);
  });

  it('refuses text that is not a JSON object', () => {
    refused(() => parseAgentMessage('not json'), /not JSON/);
    refused(() => parseAgentMessage('[1]'), /control message must be an object/);
    refused(() => parseServerMessage('null'), /control message must be an object/);
  });

  it('refuses unknown types and unknown fields (strict, both directions)', () => {
    refused(() => parseAgentMessage(JSON.stringify({ type: 'registered' })), /unknown control message type "registered"/);
    refused(() => parseServerMessage(JSON.stringify(register)), /unknown control message type "register"/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, extra: 1 })), /unknown field "extra"/);
  });

  it('checks field types and ranges', () => {
    refused(() => parseAgentMessage(JSON.stringify({ ...register, version: 1.5 })), /"version" must be an integer in 0..255/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, p2p: 'yes' })), /"p2p" must be a boolean/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, client: 'x'.repeat(101) })), /"client" must be a string of at most 100 chars/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, resume: { sessionId: 'ABC', resumeSecret: 's' } })), /not a session id/);
    refused(() => parseServerMessage(JSON.stringify({ type: 'viewer-left', viewerId: 'xyz' })), /bad viewerId/);
    refused(() => parseServerMessage(JSON.stringify({ type: 'viewer-gone', id: 'xyz' })), /bad visitor id/);
    refused(() => parseServerMessage(JSON.stringify({ type: 'viewer-gone', id: 'a'.repeat(32), state: 'waiting' })), /unknown field "state"/);
    expect(parseServerMessage(JSON.stringify({ type: 'viewer-gone', id: 'a'.repeat(32) }))).toEqual({ type: 'viewer-gone', id: 'a'.repeat(32) });
    refused(() => parseServerMessage(JSON.stringify({ type: 'viewer-signed-out', id: 'a'.repeat(32) })), /unknown control message type/);
    const viewer = { type: 'viewer', id: 'a'.repeat(32), state: 'admitted', address: '127.0.0.1', userAgent: '', firstSeenAt: 1 };
    expect(parseServerMessage(JSON.stringify({ ...viewer, signInEndsInMs: 5_000 }))).toEqual({ ...viewer, signInEndsInMs: 5_000 });
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, signInEndsInMs: -1 })), /"signInEndsInMs" must be an integer/);
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, signInEndsInMs: 8 * 86_400_000 })), /"signInEndsInMs" must be an integer/);
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, signInEndsInMs: 1.5 })), /"signInEndsInMs" must be an integer/);
  });

  it('carries a viewer password in register (1-256 chars) and "access":"password" in registered, refusing anything else', () => {
    expect(parseAgentMessage(JSON.stringify({ ...register, viewerPassword: 'pw: with spaces' }))).toMatchObject({ viewerPassword: 'pw: with spaces' });
    expect(parseAgentMessage(JSON.stringify(register))).not.toHaveProperty('viewerPassword');
    refused(() => parseAgentMessage(JSON.stringify({ ...register, viewerPassword: '' })), /"viewerPassword" must be a string of 1-256 chars/);
    refused(
      () => parseAgentMessage(JSON.stringify({ ...register, viewerPassword: 'x'.repeat(MAX_VIEWER_PASSWORD_CHARS + 1) })),
      /"viewerPassword" must be a string of 1-256 chars/,
    );
    refused(() => parseAgentMessage(JSON.stringify({ ...register, viewerPassword: 42 })), /"viewerPassword" must be a string/);
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as Record<string, unknown>;
    expect(parseServerMessage(JSON.stringify({ ...registered, access: 'password' }))).toMatchObject({ access: 'password' });
    expect(parseServerMessage(JSON.stringify(registered))).not.toHaveProperty('access');
    refused(() => parseServerMessage(JSON.stringify({ ...registered, access: 'open' })), /"access" must be one of password/);
  });

  it('carries link verifiers in register and its resume (32 bytes, base64url), refusing anything else', () => {
    const verifier = 'A'.repeat(42) + 'E';
    expect(parseAgentMessage(JSON.stringify({ ...register, linkVerifier: verifier }))).toMatchObject({ linkVerifier: verifier });
    const resume = { sessionId: 'abcdefghijklmnopqrstuvwxyz', resumeSecret: 's', linkVerifier: verifier };
    expect(parseAgentMessage(JSON.stringify({ ...register, resume }))).toMatchObject({ resume });
    refused(() => parseAgentMessage(JSON.stringify({ ...register, linkVerifier: 'A'.repeat(22) })), /"linkVerifier" is not a link verifier/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, linkVerifier: '+'.repeat(43) })), /"linkVerifier" is not a link verifier/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, linkVerifier: 'A'.repeat(65) })), /"linkVerifier" must be a string of at most 64 chars/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, resume: { ...resume, linkVerifier: 7 } })), /"linkVerifier" must be a string/);
  });

  it('carries an expiry in register (1 s to 30 days) and its deadline in registered, refusing anything else', () => {
    expect(parseAgentMessage(JSON.stringify({ ...register, expiresInMs: 7_200_000 }))).toMatchObject({ expiresInMs: 7_200_000 });
    expect(parseAgentMessage(JSON.stringify(register))).not.toHaveProperty('expiresInMs');
    refused(() => parseAgentMessage(JSON.stringify({ ...register, expiresInMs: MIN_SESSION_EXPIRY_MS - 1 })), /"expiresInMs" must be an integer/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, expiresInMs: MAX_SESSION_EXPIRY_MS + 1 })), /"expiresInMs" must be an integer/);
    refused(() => parseAgentMessage(JSON.stringify({ ...register, expiresInMs: '2h' })), /"expiresInMs" must be an integer/);
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as Record<string, unknown>;
    expect(parseServerMessage(JSON.stringify({ ...registered, expiresAt: 1_800_000_000_000 }))).toMatchObject({ expiresAt: 1_800_000_000_000 });
    refused(() => parseServerMessage(JSON.stringify({ ...registered, expiresAt: -1 })), /"expiresAt" must be an integer/);
  });

  it("says in registered that a resumed session's viewers start over, naming both accesses, refusing anything else", () => {
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as Record<string, unknown>;
    const viewersReset = { from: 'link', to: 'password+approve' };
    expect(parseServerMessage(JSON.stringify({ ...registered, viewersReset }))).toMatchObject({ viewersReset });
    expect(parseServerMessage(JSON.stringify(registered))).not.toHaveProperty('viewersReset');
    refused(() => parseServerMessage(JSON.stringify({ ...registered, viewersReset: { from: 'link', to: 'open' } })), /"viewersReset.to" must be one of/);
    refused(() => parseServerMessage(JSON.stringify({ ...registered, viewersReset: { ...viewersReset, extra: 1 } })), /extra/);
    expect(accessLabelOf(true, 'approve')).toBe('password+approve');
    expect(accessLabelOf(false, 'open')).toBe('link');
    expect(accessLabelOf(true, undefined)).toBe('password');
  });

  it('carries the video section setting in registered.p2p when present, a boolean only', () => {
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as { p2p: Record<string, unknown> };
    expect(parseServerMessage(JSON.stringify(registered))).not.toHaveProperty('p2p.videoSection');
    registered.p2p.videoSection = true;
    expect(parseServerMessage(JSON.stringify(registered))).toMatchObject({ p2p: { videoSection: true } });
    registered.p2p.videoSection = 'yes';
    refused(() => parseServerMessage(JSON.stringify(registered)), /"videoSection" must be a boolean/);
  });

  it('carries the loss probe setting in p2p settings when present, a boolean only', () => {
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as { p2p: Record<string, unknown> };
    expect(parseServerMessage(JSON.stringify(registered))).not.toHaveProperty('p2p.lossProbe');
    registered.p2p.lossProbe = false;
    expect(parseServerMessage(JSON.stringify(registered))).toMatchObject({ p2p: { lossProbe: false } });
    registered.p2p.lossProbe = 0;
    refused(() => parseServerMessage(JSON.stringify(registered)), /"lossProbe" must be a boolean/);
  });

  it.each(SPEED_SWITCHES)('carries the %s switch in p2p settings when present, a boolean only', (name) => {
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as { p2p: Record<string, unknown> };
    expect(parseServerMessage(JSON.stringify(registered))).not.toHaveProperty(`p2p.${name}`);
    registered.p2p[name] = false;
    expect(parseServerMessage(JSON.stringify(registered))).toMatchObject({ p2p: { [name]: false } });
    registered.p2p[name] = 'false';
    refused(() => parseServerMessage(JSON.stringify(registered)), new RegExp(`"${name}" must be a boolean`));
  });

  it('refuses ICE servers that are not stun:/turn: URLs', () => {
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as { p2p: { iceServers: unknown[] } };
    registered.p2p.iceServers = [{ urls: ['http://127.0.0.1/'] }];
    refused(() => parseServerMessage(JSON.stringify(registered)), /stun:\/turn: URLs/);
  });

  it(`refuses a message over MAX_CONTROL_MESSAGE_BYTES (${MAX_CONTROL_MESSAGE_BYTES})`, () => {
    refused(() => parseAgentMessage(JSON.stringify({ ...register, client: 'x'.repeat(MAX_CONTROL_MESSAGE_BYTES) })), /over 65536 bytes/);
  });

  it('carries the viewer gate in register and registered, viewers and decisions, and the visitor behind a signal or an own Service Worker, refusing anything else', () => {
    const id = '0123456789abcdef0123456789abcdef';
    expect(parseAgentMessage(JSON.stringify({ ...register, viewers: 'approve' }))).toMatchObject({ viewers: 'approve' });
    refused(() => parseAgentMessage(JSON.stringify({ ...register, viewers: 'closed' })), /"viewers" must be one of open, approve/);
    const registered = JSON.parse(jsonExamples().find((e) => e.includes('"registered"'))!) as Record<string, unknown>;
    expect(parseServerMessage(JSON.stringify({ ...registered, viewers: 'open' }))).toMatchObject({ viewers: 'open' });
    const viewer = { type: 'viewer', id, state: 'waiting', address: '203.0.113.7', userAgent: 'curl/8', firstSeenAt: 1 };
    expect(parseServerMessage(JSON.stringify(viewer))).toEqual(viewer);
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, state: 'banned' })), /"state" must be one of waiting, admitted, refused/);
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, id: 'ABC' })), /bad visitor id/);
    refused(() => parseServerMessage(JSON.stringify({ ...viewer, userAgent: 'x'.repeat(513) })), /"userAgent"/);
    expect(parseAgentMessage(JSON.stringify({ type: 'viewer-decision', decision: 'refuse-all' }))).toEqual({ type: 'viewer-decision', decision: 'refuse-all' });
    refused(() => parseAgentMessage(JSON.stringify({ type: 'viewer-decision', decision: 'refuse-all', id })), /takes no id/);
    refused(() => parseAgentMessage(JSON.stringify({ type: 'viewer-decision', decision: 'admit' })), /bad visitor id/);
    refused(() => parseAgentMessage(JSON.stringify({ type: 'viewer-decision', decision: 'kick', id })), /"decision" must be one of admit, refuse, refuse-all/);
    const signal = { type: 'signal', viewerId: '0123456789abcdef', visitorId: id, message: { type: 'bye' } };
    expect(parseServerMessage(JSON.stringify(signal))).toEqual(signal);
    refused(() => parseServerMessage(JSON.stringify({ ...signal, visitorId: 'nope' })), /bad visitor id/);
    const ownSw = { type: 'viewer-own-sw', script: '/sw.js', visitorId: id };
    expect(parseServerMessage(JSON.stringify(ownSw))).toEqual(ownSw);
    expect(parseServerMessage(JSON.stringify({ type: 'viewer-own-sw', script: '/sw.js' }))).toEqual({ type: 'viewer-own-sw', script: '/sw.js' });
    refused(() => parseServerMessage(JSON.stringify({ ...ownSw, visitorId: 'ABC' })), /bad visitor id/);
  });
});

describe('signaling validation', () => {
  it('refuses an unknown message type from either end', () => {
    refused(() => parseViewerSignal('{"type":"prepare","sdp":"v=0"}'), /unknown signaling message type "prepare"/);
    refused(() => parseHostSignal('{"type":"prepared","sdp":"v=0","resume":"AAAAAAAAAAAAAAAAAAAAAA"}'), /unknown signaling message type "prepared"/);
  });

  it('refuses an offer with a field it does not know', () => {
    expect(parseViewerSignal('{"type":"offer","sdp":"v=0","mac":"m"}')).toEqual({ type: 'offer', sdp: 'v=0', mac: 'm' });
    refused(() => parseViewerSignal('{"type":"offer","sdp":"v=0","resume":"AAAAAAAAAAAAAAAAAAAAAA"}'), /unknown field "resume"/);
  });
});
