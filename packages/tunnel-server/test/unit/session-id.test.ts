import { SESSION_ID_PATTERN } from '@wingman/protocol';
import { randomBytes } from 'node:crypto';
import { base32, constantTimeEqual, createResumeSecret, deadlineOf } from '../../src/sessions/session-id';
import { createSessionIds, sessionIdFor } from '../../src/sessions/session-key';

describe('session ids', () => {
  it('encodes the RFC 4648 §10 base32 test vectors in lower case without padding', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'my'],
      ['fo', 'mzxq'],
      ['foo', 'mzxw6'],
      ['foob', 'mzxw6yq'],
      ['fooba', 'mzxw6ytb'],
      ['foobar', 'mzxw6ytboi'],
    ];
    for (const [input, out] of vectors) expect(base32(Buffer.from(input))).toBe(out);
  });

  it('binds a deadline into the resume secret, so the id changes if it is dropped or moved', () => {
    const key = randomBytes(32);
    const secret = createResumeSecret(1_800_000_000_123);
    expect(deadlineOf(secret)).toBe(1_800_000_000_123);
    expect(deadlineOf(createResumeSecret())).toBeUndefined();
    expect(secret.length).toBeLessThanOrEqual(128);
    const [random] = secret.split('.');
    const ids = createSessionIds(key);
    const id = ids.idFor(secret);
    expect(ids.owns(id, secret)).toBe(true);
    expect(ids.owns(id, random!)).toBe(false);
    expect(ids.owns(id, `${random}.9999999999999`)).toBe(false);
  });

  it('derives 26-character ids that match SESSION_ID_PATTERN and do not repeat from fresh secrets', () => {
    const ids = new Set<string>();
    const sessionIds = createSessionIds(randomBytes(32));
    for (let i = 0; i < 1000; i++) {
      const id = sessionIds.idFor(createResumeSecret());
      expect(id).toMatch(SESSION_ID_PATTERN);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it('draws resume secrets of 256 bits in base64url', () => {
    expect(createResumeSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('compares secrets of any length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('binds an id to its secret under the key: another secret or another key does not own it', () => {
    const key = randomBytes(32);
    const secret = createResumeSecret();
    const id = sessionIdFor(key, secret);
    expect(createSessionIds(key).owns(id, secret)).toBe(true);
    expect(createSessionIds(key).owns(id, createResumeSecret())).toBe(false);
    expect(createSessionIds(randomBytes(32)).owns(id, secret)).toBe(false);
  });
});
