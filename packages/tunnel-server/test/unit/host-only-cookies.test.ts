import { hostOnlyCookies, hostOnlySetCookie } from '../../src/relay/host-only-cookies';

const HOST = 'abc.localhost';

describe('host-only Set-Cookie on relayed responses', () => {
  it('removes a Domain that names the tunnel domain, a parent, or the session host itself', () => {
    expect(hostOnlySetCookie('sid=1; Path=/; Domain=localhost; HttpOnly', HOST)).toBe('sid=1; Path=/; HttpOnly');
    expect(hostOnlySetCookie('sid=1; domain=.LOCALHOST', HOST)).toBe('sid=1');
    expect(hostOnlySetCookie('sid=1;Domain=abc.localhost;SameSite=Strict', HOST)).toBe('sid=1;SameSite=Strict');
    expect(hostOnlySetCookie('sid=1; Path=/; Domain=example.com ; Domain=t.example.com', 'abc.t.example.com')).toBe('sid=1; Path=/');
  });

  it('drops a cookie whose Domain does not cover the session host, as a browser would refuse it', () => {
    expect(hostOnlySetCookie('sid=1; Domain=other.localhost', HOST)).toBeUndefined();
    expect(hostOnlySetCookie('sid=1; Domain=evil.example', HOST)).toBeUndefined();
    // The last Domain is the one browsers apply (RFC 6265 §5.3 step 4).
    expect(hostOnlySetCookie('sid=1; Domain=localhost; Domain=other.localhost', HOST)).toBeUndefined();
  });

  it('drops a __Host- cookie that carries a Domain instead of making it acceptable', () => {
    expect(hostOnlySetCookie('__Host-sid=1; Secure; Path=/; Domain=abc.localhost', HOST)).toBeUndefined();
    expect(hostOnlySetCookie('__Host-sid=1; Secure; Path=/', HOST)).toBe('__Host-sid=1; Secure; Path=/');
  });

  it('keeps fields without a Domain byte for byte, and ignores an empty Domain', () => {
    const field = 'theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/app';
    expect(hostOnlySetCookie(field, HOST)).toBe(field);
    expect(hostOnlySetCookie('a=b; Domain=; Path=/', HOST)).toBe('a=b; Path=/');
    expect(hostOnlySetCookie('domain=localhost; Path=/', HOST)).toBe('domain=localhost; Path=/');
  });

  it('rewrites only the Set-Cookie fields of a header list, in order', () => {
    const out = hostOnlyCookies(
      [
        ['content-type', 'text/html'],
        ['set-cookie', 'a=1; Domain=localhost'],
        ['set-cookie', 'b=2; Domain=elsewhere.example'],
        ['set-cookie', 'c=3'],
      ],
      HOST,
    );
    expect(out).toEqual([
      ['content-type', 'text/html'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'c=3'],
    ]);
  });
});
