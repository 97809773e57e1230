import { CookieJar, defaultPath, MAX_COOKIES, parseSetCookie, pathMatches } from '../../src/shared/cookie-jar';

const NOW = Date.UTC(2030, 0, 1);

describe('Set-Cookie parsing (RFC 6265 §5.2)', () => {
  it('reads name, value and every attribute, case-insensitively', () => {
    expect(parseSetCookie('sid=abc; Path=/app; HttpOnly; Secure; SameSite=Strict; Max-Age=60; Domain=.Example.localhost')).toEqual({
      name: 'sid',
      value: 'abc',
      path: '/app',
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      maxAge: 60,
      domain: 'example.localhost',
    });
  });

  it('ignores a field without a name, with control characters, or over 4096 bytes', () => {
    expect(parseSetCookie('novalue')).toBeUndefined();
    expect(parseSetCookie('=x')).toBeUndefined();
    expect(parseSetCookie('a=b\u0001')).toBeUndefined();
    expect(parseSetCookie(`a=${'x'.repeat(4096)}`)).toBeUndefined();
  });

  it('defaults SameSite to Lax and ignores unknown or invalid attribute values', () => {
    expect(parseSetCookie('a=b; SameSite=bogus; Path=relative; Frobnicate')).toEqual({
      name: 'a',
      value: 'b',
      httpOnly: false,
      secure: false,
      sameSite: 'lax',
    });
  });
});

describe('paths (RFC 6265 §5.1.4)', () => {
  it('computes the default path from the request path', () => {
    expect(defaultPath('/')).toBe('/');
    expect(defaultPath('/login')).toBe('/');
    expect(defaultPath('/a/b/c')).toBe('/a/b');
    expect(defaultPath('')).toBe('/');
  });

  it('matches a path prefix only at a segment boundary', () => {
    expect(pathMatches('/app', '/app')).toBe(true);
    expect(pathMatches('/app/x', '/app')).toBe(true);
    expect(pathMatches('/app/x', '/app/')).toBe(true);
    expect(pathMatches('/application', '/app')).toBe(false);
    expect(pathMatches('/', '/app')).toBe(false);
  });
});

describe('CookieJar', () => {
  const jar = () => new CookieJar('abc.localhost');

  it('stores a cookie and sends it to matching paths, longest path first then oldest', () => {
    const j = jar();
    j.applySetCookie('a=1; Path=/', '/', NOW);
    j.applySetCookie('b=2; Path=/x', '/', NOW + 1);
    j.applySetCookie('c=3; Path=/', '/', NOW + 2);
    expect(j.header('/x/y', NOW + 3)).toBe('b=2; a=1; c=3');
    expect(j.header('/z', NOW + 3)).toBe('a=1; c=3');
  });

  it('expires cookies by Max-Age (which wins over Expires) and deletes on Max-Age=0', () => {
    const j = jar();
    j.applySetCookie(`a=1; Max-Age=10; Expires=${new Date(NOW + 1e9).toUTCString()}`, '/', NOW);
    expect(j.header('/', NOW + 9_000)).toBe('a=1');
    expect(j.header('/', NOW + 10_000)).toBe('');
    j.applySetCookie('b=1', '/', NOW);
    expect(j.applySetCookie('b=; Max-Age=0', '/', NOW)).toMatchObject({ kind: 'delete' });
    expect(j.get('b', '/')).toBeUndefined();
  });

  it('purges expired cookies and reports them', () => {
    const j = jar();
    j.applySetCookie('a=1; Max-Age=1', '/', NOW);
    expect(j.purgeExpired(NOW + 2000)).toEqual([expect.objectContaining({ kind: 'delete' })]);
    expect(j.list()).toEqual([]);
  });

  it('rejects a Domain that does not cover the session host, accepts one that does', () => {
    const j = jar();
    expect(j.applySetCookie('a=1; Domain=other.localhost', '/', NOW)).toBeUndefined();
    expect(j.applySetCookie('a=1; Domain=localhost', '/', NOW)).toMatchObject({ kind: 'set' });
  });

  it('enforces the __Host- and __Secure- prefixes and SameSite=None requiring Secure', () => {
    const j = jar();
    expect(j.applySetCookie('__Host-a=1; Path=/', '/', NOW)).toBeUndefined();
    expect(j.applySetCookie('__Host-a=1; Secure; Path=/x', '/', NOW)).toBeUndefined();
    expect(j.applySetCookie('__Host-a=1; Secure; Path=/', '/', NOW)).toMatchObject({ kind: 'set' });
    expect(j.applySetCookie('__Secure-b=1', '/', NOW)).toBeUndefined();
    expect(j.applySetCookie('c=1; SameSite=None', '/', NOW)).toBeUndefined();
  });

  it('withholds SameSite cookies from cross-site requests as browsers do', () => {
    const j = jar();
    j.applySetCookie('s=1; SameSite=Strict', '/', NOW);
    j.applySetCookie('l=1', '/', NOW + 1);
    j.applySetCookie('n=1; SameSite=None; Secure', '/', NOW + 2);
    expect(j.header('/', NOW, { crossSite: true, safeTopLevelNavigation: false })).toBe('n=1');
    expect(j.header('/', NOW, { crossSite: true, safeTopLevelNavigation: true })).toBe('l=1; n=1');
    expect(j.header('/', NOW, { crossSite: false, safeTopLevelNavigation: false })).toBe('s=1; l=1; n=1');
  });

  it('never lets script cookies replace an HttpOnly cookie', () => {
    const j = jar();
    j.applySetCookie('sid=server; HttpOnly; Path=/', '/', NOW);
    expect(j.putFromScript({ name: 'sid', value: 'forged', path: '/' }, NOW)).toBeUndefined();
    expect(j.header('/', NOW)).toBe('sid=server');
    expect(j.putFromScript({ name: 'theme', value: 'dark' }, NOW)).toMatchObject({ kind: 'set', cookie: { httpOnly: false, path: '/' } });
  });

  it('keeps the creation time when a cookie is replaced and clears its mirrored mark on a new value', () => {
    const j = jar();
    j.applySetCookie('a=1', '/', NOW);
    j.markMirrored('a', '/', '1');
    expect(j.get('a', '/')?.mirrored).toBe(true);
    j.applySetCookie('a=2', '/', NOW + 5);
    expect(j.get('a', '/')).toMatchObject({ value: '2', created: NOW });
    expect(j.get('a', '/')?.mirrored).toBeUndefined();
  });

  it(`keeps at most ${MAX_COOKIES} cookies, evicting the oldest`, () => {
    const j = jar();
    for (let i = 0; i <= MAX_COOKIES; i++) j.applySetCookie(`c${i}=1`, '/', NOW + i);
    expect(j.list()).toHaveLength(MAX_COOKIES);
    expect(j.get('c0', '/')).toBeUndefined();
  });

  it('round-trips through its list (what IndexedDB stores)', () => {
    const j = jar();
    j.applySetCookie('a=1; HttpOnly; Max-Age=100', '/', NOW);
    expect(new CookieJar('abc.localhost', j.list()).header('/', NOW + 1)).toBe('a=1');
  });
});
