import { routeFor, routePrefixProblem } from '../../src/forward/routes';
import { resolveRoutes } from '../../src/cli/route-option';
import { UsageError } from '../../src/cli/usage-error';

const routes = [{ prefix: '/api' }, { prefix: '/api/admin' }, { prefix: '/ws' }];

describe('path mounts', () => {
  it('takes the longest prefix the path is under, at a slash boundary, ignoring the query', () => {
    expect(routeFor('/api', routes)?.prefix).toBe('/api');
    expect(routeFor('/api/users?x=/api/admin', routes)?.prefix).toBe('/api');
    expect(routeFor('/api?q=1', routes)?.prefix).toBe('/api');
    expect(routeFor('/api/admin/users', routes)?.prefix).toBe('/api/admin');
    expect(routeFor('/ws', routes)?.prefix).toBe('/ws');
    for (const main of ['/', '/apix', '/index.html', '/wsx/y', '/API/users']) expect(routeFor(main, routes)).toBeUndefined();
  });

  it('refuses prefixes that are not one plain path', () => {
    expect(routePrefixProblem('/api')).toBeUndefined();
    expect(routePrefixProblem('/api/v1')).toBeUndefined();
    for (const bad of ['/', 'api', '/api/', '/api?x', '/a#b', '/a/../b', '/a/./b', '/%2e', '//api', '/a b']) expect(routePrefixProblem(bad)).toBeDefined();
  });

  it('reads --route <prefix=target>, a trailing slash of the prefix dropped, each prefix once', () => {
    expect(resolveRoutes(['/api/=8000', '/ws=127.0.0.1:8001', '/tls=https://localhost:8443'], {})).toEqual([
      { prefix: '/api', target: { host: 'localhost', port: 8000 } },
      { prefix: '/ws', target: { host: '127.0.0.1', port: 8001 } },
      { prefix: '/tls', target: { host: 'localhost', port: 8443, scheme: 'https' } },
    ]);
    const refusal = (texts: string[]) => {
      try {
        resolveRoutes(texts, {});
      } catch (err) {
        expect(err).toBeInstanceOf(UsageError);
        return (err as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refusal(['/api'])).toMatch(/expected <prefix>=<target>/);
    expect(refusal(['api=8000'])).toMatch(/invalid --route "api=8000": prefix "api"/);
    expect(refusal(['/api=99999'])).toMatch(/invalid --route "\/api=99999": invalid port 99999/);
    expect(refusal(['/api=8000', '/api/=8001'])).toMatch(/\/api is mounted twice/);
  });
});
