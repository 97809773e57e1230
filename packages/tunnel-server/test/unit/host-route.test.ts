import { createHostRouter, hostnameOf } from '../../src/http/host-route';

describe('host routing', () => {
  const router = createHostRouter('localhost:8080');

  it('routes <label>.<domain> to a session, case-insensitively and whatever the port', () => {
    expect(router('ABC.LocalHost:8080')).toEqual({ kind: 'session', label: 'abc' });
    expect(router('abc.localhost')).toEqual({ kind: 'session', label: 'abc' });
    expect(router('abc.localhost.:9')).toEqual({ kind: 'session', label: 'abc' });
    expect(router('a.b.localhost:8080')).toEqual({ kind: 'session', label: 'a.b' });
  });

  it('routes the apex, addresses and missing hosts to the apex', () => {
    for (const host of ['localhost:8080', 'localhost', '127.0.0.1:8080', '[::1]:8080', undefined, 'evil-localhost:8080', '.localhost']) {
      expect(router(host)).toEqual({ kind: 'apex' });
    }
  });

  it('extracts host names', () => {
    expect(hostnameOf('[::1]:80')).toBe('[::1]');
    expect(hostnameOf('Example.COM')).toBe('example.com');
  });
});
