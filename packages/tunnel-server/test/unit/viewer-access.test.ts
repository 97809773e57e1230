/**
 * The viewer access gate of password-protected sessions, on plain request
 * objects: which credentials grant access, what earns the cookie, guessing
 * throttled per source and per session, and the gate's credentials scrubbed from what the
 * app would receive.
 */
import type { IncomingMessage } from 'node:http';
import { ACCESS_COOKIE, basicPassword, createViewerAccessGate, withoutCookie } from '../../src/access/viewer-access';
import { MAX_PASSWORD_FAILURES_PER_SESSION, MAX_PASSWORD_FAILURES_PER_SOURCE, PASSWORD_ATTEMPT_WINDOW_MS } from '../../src/access/password-throttle';
import { createKeyRing } from '../../src/keys/key-ring';

const gate = createViewerAccessGate({ key: Buffer.alloc(32, 7), secureCookie: false });
const basic = (password: string, user = '') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A request as the gate reads it: rawHeaders plus the derived headers object. */
function request(raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    headers[name] = name === 'cookie' && headers[name] ? `${headers[name]}; ${raw[i + 1]}` : raw[i + 1]!;
  }
  return { rawHeaders: [...raw], headers } as unknown as IncomingMessage;
}

describe('basicPassword', () => {
  it('returns the password of Basic credentials, whatever the user name, colons included', () => {
    expect(basicPassword(basic('s3cret'))).toBe('s3cret');
    expect(basicPassword(basic('a:b:c', 'someone'))).toBe('a:b:c');
    expect(basicPassword(`basic ${Buffer.from(':x').toString('base64')}`)).toBe('x');
    expect(basicPassword(basic('pässwörd'))).toBe('pässwörd');
  });

  it('returns undefined for other schemes, no colon and malformed values', () => {
    expect(basicPassword(undefined)).toBeUndefined();
    expect(basicPassword('Bearer abc')).toBeUndefined();
    expect(basicPassword(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
    expect(basicPassword('Basic !!!')).toBeUndefined();
  });
});

describe('withoutCookie', () => {
  it('drops only the access cookie and keeps the other pairs in order', () => {
    expect(withoutCookie(`a=1; ${ACCESS_COOKIE}=t; b=2`, ACCESS_COOKIE)).toBe('a=1; b=2');
    expect(withoutCookie(`${ACCESS_COOKIE}=t`, ACCESS_COOKIE)).toBeUndefined();
    expect(withoutCookie(`x${ACCESS_COOKIE}=keep; ${ACCESS_COOKIE}x=keep`, ACCESS_COOKIE)).toBe(`x${ACCESS_COOKIE}=keep; ${ACCESS_COOKIE}x=keep`);
    expect(withoutCookie('flag; a=1', ACCESS_COOKIE)).toBe('flag; a=1');
  });
});

describe('check', () => {
  it('grants the right password and earns an HttpOnly, SameSite=Lax cookie bound to the session', () => {
    const access = gate.create('session-a', 'pw');
    const d = gate.check(request(['Authorization', basic('pw', 'me')]), access, { fromServiceWorker: false, source: '192.0.2.1' });
    expect(d).toEqual({ kind: 'granted', setCookie: `${ACCESS_COOKIE}=${access.token}; Path=/; HttpOnly; SameSite=Lax` });
    expect(gate.create('session-b', 'pw').token).not.toBe(access.token);
    expect(gate.create('session-a', 'other').token).not.toBe(access.token);
  });

  it('marks the cookie Secure behind an https public URL', () => {
    const secure = createViewerAccessGate({ key: Buffer.alloc(32, 1), secureCookie: true });
    const access = secure.create('s', 'pw');
    const d = secure.check(request(['authorization', basic('pw')]), access, { fromServiceWorker: false, source: '192.0.2.1' });
    expect(d.kind === 'granted' && d.setCookie).toMatch(/; Secure/);
  });

  it('grants the cookie alone, and never earns a cookie for a Service Worker request', () => {
    const access = gate.create('s', 'pw');
    expect(gate.check(request(['cookie', `a=1; ${ACCESS_COOKIE}=${access.token}`]), access, { fromServiceWorker: false, source: '192.0.2.1' })).toEqual({
      kind: 'granted',
    });
    expect(gate.check(request(['authorization', basic('pw')]), access, { fromServiceWorker: true, source: '192.0.2.1' })).toEqual({ kind: 'granted' });
  });

  it('denies missing credentials, a wrong password, another scheme and a forged cookie', () => {
    const access = gate.create('s', 'pw');
    expect(gate.check(request([]), access, { fromServiceWorker: false, source: '192.0.2.1' })).toEqual({ kind: 'denied', reason: 'missing' });
    expect(gate.check(request(['authorization', 'Bearer pw']), access, { fromServiceWorker: false, source: '192.0.2.1' })).toEqual({
      kind: 'denied',
      reason: 'missing',
    });
    expect(gate.check(request(['authorization', basic('PW')]), access, { fromServiceWorker: false, source: '192.0.2.1' })).toEqual({
      kind: 'denied',
      reason: 'wrong',
    });
    expect(
      gate.check(request(['cookie', `${ACCESS_COOKIE}=${access.token.slice(0, -1)}A`]), access, { fromServiceWorker: false, source: '192.0.2.1' }),
    ).toEqual({ kind: 'denied', reason: 'missing' });
    expect(gate.check(request(['cookie', `${ACCESS_COOKIE}=%E0%A4%A`]), access, { fromServiceWorker: false, source: '192.0.2.1' })).toEqual({
      kind: 'denied',
      reason: 'missing',
    });
  });

  it(`throttles a source after ${MAX_PASSWORD_FAILURES_PER_SOURCE} wrong passwords until the window ends, other sources and the cookie still pass`, () => {
    const access = gate.create('s', 'pw');
    const t0 = 1_000_000;
    const from = (source: string, now: number, auth = basic('pw')) =>
      gate.check(request(['authorization', auth]), access, { fromServiceWorker: false, source, now });
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SOURCE; i++)
      expect(from('203.0.113.7', t0 + i, basic(`guess${i}`))).toEqual({ kind: 'denied', reason: 'wrong' });
    // Even the right password waits: a throttled source learns nothing.
    expect(from('203.0.113.7', t0 + 100)).toEqual({ kind: 'throttled', retryAfterS: 60 });
    expect(from('198.51.100.9', t0 + 100)).toMatchObject({ kind: 'granted' });
    expect(
      gate.check(request(['cookie', `${ACCESS_COOKIE}=${access.token}`]), access, { fromServiceWorker: false, source: '203.0.113.7', now: t0 + 100 }),
    ).toEqual({ kind: 'granted' });
    expect(from('203.0.113.7', t0 + PASSWORD_ATTEMPT_WINDOW_MS).kind).toBe('granted');
  });

  it(`once the session took ${MAX_PASSWORD_FAILURES_PER_SESSION} wrong passwords in a window, stops the sources that failed and lets a new one in with the right password`, () => {
    const access = gate.create('s', 'pw');
    const t0 = 2_000_000;
    for (let i = 0; i < MAX_PASSWORD_FAILURES_PER_SESSION; i++) {
      // Spread over sources so that none reaches its own limit.
      const d = gate.check(request(['authorization', basic(`guess${i}`)]), access, {
        fromServiceWorker: false,
        source: `10.0.${Math.floor(i / 5)}.${i % 5}`,
        now: t0 + i,
      });
      expect(d).toEqual({ kind: 'denied', reason: 'wrong' });
    }
    const guesser = gate.check(request(['authorization', basic('pw')]), access, { fromServiceWorker: false, source: '10.0.0.0', now: t0 + 1_000 });
    expect(guesser).toEqual({ kind: 'throttled', retryAfterS: 59 });
    const fresh = gate.check(request(['authorization', basic('pw')]), access, { fromServiceWorker: false, source: '198.51.100.9', now: t0 + 1_000 });
    expect(fresh).toMatchObject({ kind: 'granted' });
    const wrong = () => gate.check(request(['authorization', basic('guess')]), access, { fromServiceWorker: false, source: '198.51.100.10', now: t0 + 1_000 });
    expect(wrong()).toEqual({ kind: 'denied', reason: 'wrong' });
    expect(wrong()).toEqual({ kind: 'throttled', retryAfterS: 59 });
  });
});

describe('scrub', () => {
  it('removes the access cookie and a password-bearing Authorization, keeping everything else', () => {
    const access = gate.create('s', 'pw');
    const req = request(['Host', 'x', 'Cookie', `a=1; ${ACCESS_COOKIE}=${access.token}`, 'Authorization', basic('pw'), 'Cookie', 'b=2']);
    gate.scrub(req, access);
    expect(req.rawHeaders).toEqual(['Host', 'x', 'Cookie', 'a=1', 'Cookie', 'b=2']);
    expect(req.headers.cookie).toBe('a=1; b=2');
    expect(req.headers.authorization).toBeUndefined();
  });

  it("keeps the app's own Authorization and drops an emptied Cookie header", () => {
    const access = gate.create('s', 'pw');
    const req = request(['cookie', `${ACCESS_COOKIE}=${access.token}`, 'authorization', 'Bearer app-token']);
    gate.scrub(req, access);
    expect(req.rawHeaders).toEqual(['authorization', 'Bearer app-token']);
    expect(req.headers.cookie).toBeUndefined();
    expect(req.headers.authorization).toBe('Bearer app-token');
  });
});

describe('a gate whose key changes (a cluster adopting the shared key)', () => {
  it('accepts cookies signed under the key it replaced, earns new ones under the new key, and forgets keys two changes back', () => {
    const ring = createKeyRing(Buffer.alloc(32, 1));
    const rotating = createViewerAccessGate({ key: ring, secureCookie: false });
    const access = rotating.create('session-r', 'pw');
    const underFirst = access.token;
    const check = (token: string) =>
      rotating.check(request(['cookie', `${ACCESS_COOKIE}=${token}`]), access, { fromServiceWorker: false, source: '192.0.2.1' }).kind;
    expect(ring.adopt(Buffer.alloc(32, 2))).toBe(true);
    expect(ring.adopt(Buffer.alloc(32, 2))).toBe(false);
    const underSecond = access.token;
    expect(underSecond).not.toBe(underFirst);
    expect(check(underFirst)).toBe('granted');
    expect(check(underSecond)).toBe('granted');
    const earned = rotating.check(request(['authorization', basic('pw')]), access, { fromServiceWorker: false, source: '192.0.2.1' });
    expect(earned).toEqual({ kind: 'granted', setCookie: `${ACCESS_COOKIE}=${underSecond}; Path=/; HttpOnly; SameSite=Lax` });
    ring.adopt(Buffer.alloc(32, 3));
    expect(check(underFirst)).toBe('denied');
    expect(check(underSecond)).toBe('granted');
  });
});
