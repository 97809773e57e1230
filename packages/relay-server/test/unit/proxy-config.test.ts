/** Which proxy the agent's connection takes, as curl picks one: --proxy, the scheme's variable, ALL_PROXY, minus NO_PROXY. */
import { displayProxy, noProxyExempts, resolveProxy } from '../../src/cli/proxy-config';

const HTTP_SERVER = 'http://tunnel.example.com:8080';
const HTTPS_SERVER = 'https://tunnel.example.com';

describe('resolveProxy', () => {
  it('is direct with nothing set', () => {
    expect(resolveProxy(HTTPS_SERVER, undefined, {})).toBeUndefined();
  });

  it("takes the server scheme's variable, lower case first, then ALL_PROXY", () => {
    expect(resolveProxy(HTTPS_SERVER, undefined, { HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:1' })).toEqual({
      url: 'http://b:1',
      source: 'https_proxy',
    });
    expect(resolveProxy(HTTPS_SERVER, undefined, { HTTPS_PROXY: 'http://a:1' })).toEqual({ url: 'http://a:1', source: 'HTTPS_PROXY' });
    expect(resolveProxy(HTTP_SERVER, undefined, { http_proxy: 'http://c:1', https_proxy: 'http://b:1' })).toEqual({ url: 'http://c:1', source: 'http_proxy' });
    expect(resolveProxy(HTTP_SERVER, undefined, { ALL_PROXY: 'socks5h://d:1080' })).toEqual({ url: 'socks5h://d:1080', source: 'ALL_PROXY' });
  });

  it('ignores HTTP_PROXY in capitals for an http:// server, as curl does', () => {
    expect(resolveProxy(HTTP_SERVER, undefined, { HTTP_PROXY: 'http://a:1' })).toBeUndefined();
  });

  it("lets --proxy win, '' turn every proxy off, and NO_PROXY apply to both", () => {
    expect(resolveProxy(HTTPS_SERVER, 'socks5://s:1080', { HTTPS_PROXY: 'http://a:1' })).toEqual({ url: 'socks5://s:1080', source: '--proxy' });
    expect(resolveProxy(HTTPS_SERVER, '', { HTTPS_PROXY: 'http://a:1' })).toBeUndefined();
    expect(resolveProxy(HTTPS_SERVER, 'http://p:1', { NO_PROXY: '.example.com' })).toBeUndefined();
  });

  it('makes a value without a scheme http://, and keeps credentials', () => {
    expect(resolveProxy(HTTPS_SERVER, 'u:p%40ss@proxy:3128', {})!.url).toBe('http://u:p%40ss@proxy:3128');
  });

  it('refuses a proxy it cannot use, naming where it came from', () => {
    expect(() => resolveProxy(HTTPS_SERVER, 'ftp://p:21', {})).toThrow('invalid --proxy: scheme ftp: is not a proxy scheme');
    expect(() => resolveProxy(HTTPS_SERVER, undefined, { HTTPS_PROXY: 'http://p:1/path' })).toThrow('invalid HTTPS_PROXY: a proxy URL has no path');
    expect(() => resolveProxy(HTTPS_SERVER, undefined, { ALL_PROXY: 'http://[bad' })).toThrow('invalid ALL_PROXY "http://[bad"');
  });
});

describe('noProxyExempts', () => {
  it('matches a host, the domains above it, an address, a CIDR and *', () => {
    expect(noProxyExempts('example.com', 'tunnel.example.com')).toBe(true);
    expect(noProxyExempts('.example.com', 'example.com')).toBe(true);
    expect(noProxyExempts('*.example.com', 'a.example.com')).toBe(true);
    expect(noProxyExempts('ample.com', 'example.com')).toBe(false);
    expect(noProxyExempts('other.org, 10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(noProxyExempts('10.0.0.0/8', '11.1.2.3')).toBe(false);
    expect(noProxyExempts('::1', '[::1]')).toBe(true);
    expect(noProxyExempts('2001:db8::/32', '[2001:db8::5]')).toBe(true);
    expect(noProxyExempts(' * ', 'anything')).toBe(true);
    expect(noProxyExempts('', 'anything')).toBe(false);
  });
});

describe('displayProxy', () => {
  it('hides the password, keeps the user', () => {
    expect(displayProxy('http://alice:s3cret@proxy:3128')).toBe('http://alice:***@proxy:3128');
    expect(displayProxy('socks5://proxy:1080')).toBe('socks5://proxy:1080');
  });
});
