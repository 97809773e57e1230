/**
 * The link key's pieces (docs/PROTOCOL.md §Verified channels): base64url,
 * the key in a link's fragment, signaling MACs and channel-binding proofs,
 * with Node's WebCrypto (the same API the browser shell uses).
 */
import fc from 'fast-check';
import {
  bindingProof,
  deriveTrustKeys,
  generateLinkKey,
  linkKeyBytes,
  linkWithKey,
  sdpFingerprint,
  sessionIdOfHost,
  shortFingerprint,
  signalMac,
  signalMacValid,
  splitLinkKey,
  type MacedSignal,
} from '../../src';
import { fromBase64url, toBase64url } from '../../src/trust/base64url';

const FP_A = `sha-256 ${Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
const FP_B = `sha-256 ${Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).padStart(2, '0').toUpperCase()).join(':')}`;

describe('base64url', () => {
  it("matches Node's encoding both ways for any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(Buffer.from(fromBase64url(text)!)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('refuses padding, other characters, a dangling character and non-canonical trailing bits', () => {
    for (const bad of ['AA==', 'A+B/', 'AAAAA', 'AB']) expect(fromBase64url(bad)).toBeUndefined();
  });
});

describe('the link key', () => {
  it('is 128 random bits in 22 base64url characters', () => {
    const a = generateLinkKey();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(linkKeyBytes(a)).toHaveLength(16);
    expect(generateLinkKey()).not.toBe(a);
    expect(linkKeyBytes('too-short')).toBeUndefined();
  });

  it('goes into the fragment and comes out of it, leaving the rest of the fragment to the app', () => {
    const key = generateLinkKey();
    expect(linkWithKey('http://abc.localhost:8080/', key)).toBe(`http://abc.localhost:8080/#k=${key}`);
    expect(linkWithKey('http://abc.localhost:8080/x#old', key)).toBe(`http://abc.localhost:8080/x#k=${key}`);
    expect(splitLinkKey(`#k=${key}`)).toEqual({ key, rest: '' });
    expect(splitLinkKey(`#k=${key}&/route?a=1`)).toEqual({ key, rest: '#/route?a=1' });
    expect(splitLinkKey('#k=not-a-key')).toEqual({ rest: '#k=not-a-key' });
    expect(splitLinkKey('#section')).toEqual({ rest: '#section' });
    expect(splitLinkKey('')).toEqual({ rest: '' });
  });

  it("derives the session id from the session host's first label", () => {
    expect(sessionIdOfHost('Abc123.tunnel.example.com')).toBe('abc123');
  });
});

describe('signaling MACs', () => {
  const offer: MacedSignal = { type: 'offer', sdp: `v=0\r\na=fingerprint:${FP_A}\r\n` };

  it('verify for the same sender, viewer and content only', async () => {
    const keys = await deriveTrustKeys(linkKeyBytes(generateLinkKey())!, 'session1');
    const mac = await signalMac(keys, 'viewer', '0123456789abcdef', offer);
    expect(mac).toHaveLength(43);
    expect(await signalMacValid(keys, 'viewer', '0123456789abcdef', offer, mac)).toBe(true);
    // The fingerprint swapped, the message reflected back as the agent's, replayed into another viewer's attempt, no MAC, a garbled one.
    expect(await signalMacValid(keys, 'viewer', '0123456789abcdef', { type: 'offer', sdp: offer.sdp.replace(FP_A, FP_B) }, mac)).toBe(false);
    expect(await signalMacValid(keys, 'agent', '0123456789abcdef', offer, mac)).toBe(false);
    expect(await signalMacValid(keys, 'viewer', 'fedcba9876543210', offer, mac)).toBe(false);
    expect(await signalMacValid(keys, 'viewer', '0123456789abcdef', offer, undefined)).toBe(false);
    expect(await signalMacValid(keys, 'viewer', '0123456789abcdef', offer, `${mac.slice(0, 42)}A`)).toBe(mac.endsWith('A'));
  });

  it('do not verify under another link key or another session of the same key', async () => {
    const key = linkKeyBytes(generateLinkKey())!;
    const mac = await signalMac(await deriveTrustKeys(key, 'session1'), 'agent', '0123456789abcdef', { type: 'end-of-candidates' });
    expect(await signalMacValid(await deriveTrustKeys(key, 'session2'), 'agent', '0123456789abcdef', { type: 'end-of-candidates' }, mac)).toBe(false);
    const other = await deriveTrustKeys(linkKeyBytes(generateLinkKey())!, 'session1');
    expect(await signalMacValid(other, 'agent', '0123456789abcdef', { type: 'end-of-candidates' }, mac)).toBe(false);
  });

  it('cover every field of a candidate', async () => {
    const keys = await deriveTrustKeys(linkKeyBytes(generateLinkKey())!, 's');
    const c: MacedSignal = { type: 'ice-candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } };
    const mac = await signalMac(keys, 'agent', '0123456789abcdef', c);
    // sdpMid null and absent are the same (the tunnel server's parser drops a null).
    expect(await signalMacValid(keys, 'agent', '0123456789abcdef', { ...c, candidate: { ...c.candidate, sdpMid: '1' } }, mac)).toBe(false);
    expect(
      await signalMacValid(
        keys,
        'agent',
        '0123456789abcdef',
        { ...c, candidate: { ...c.candidate, candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host' } },
        mac,
      ),
    ).toBe(false);
  });
});

describe('channel-binding proofs', () => {
  it('differ by sender and by either fingerprint', async () => {
    const keys = await deriveTrustKeys(linkKeyBytes(generateLinkKey())!, 's');
    const p = (from: 'viewer' | 'agent', agent: string, viewer: string) => bindingProof(keys, from, { agent, viewer });
    const base = await p('viewer', FP_A, FP_B);
    expect(await p('viewer', FP_A, FP_B)).toBe(base);
    expect(await p('agent', FP_A, FP_B)).not.toBe(base);
    expect(await p('viewer', FP_B, FP_B)).not.toBe(base);
    expect(await p('viewer', FP_A, FP_A)).not.toBe(base);
  });

  it("read the SDP's sha-256 fingerprint, normalized, and shorten it for people", () => {
    expect(sdpFingerprint(`v=0\r\na=fingerprint:sha-256 ${FP_A.slice(8).toLowerCase()}\r\n`)).toBe(FP_A);
    expect(sdpFingerprint('v=0\r\na=fingerprint:sha-1 AB:CD\r\n')).toBeUndefined();
    expect(shortFingerprint(FP_A)).toBe(FP_A.slice(8, 31));
  });
});
