import { routeFor, routePrefixProblem } from '../../src/forward/routes';
import { appRoutesValue, withAppPort } from '../../src/forward/app-port';
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

  it("names the loopback routes on HTML responses for the page's shim, beside the app's port, and no other host's", () => {
    const value = appRoutesValue([
      { prefix: '/api', target: { host: 'localhost', port: 5001 } },
      { prefix: '/ws', target: { host: '::1', port: 5002 } },
      { prefix: '/v4', target: { host: '127.0.0.1', port: 5003, scheme: 'https' } },
      { prefix: '/lan', target: { host: '192.168.1.5', port: 5004 } },
    ]);
    expect(value).toBe('/api=5001 /ws=5002 /v4=5003');
    expect(appRoutesValue([{ prefix: '/lan', target: { host: 'db.internal', port: 5004 } }])).toBeUndefined();
    const app: Array<[string, string]> = [
      ['content-type', 'text/html'],
      ['x-wingman-app-routes', '/evil=1'],
    ];
    expect(withAppPort(app, 5173, value)).toEqual([
      ['content-type', 'text/html'],
      ['x-wingman-app-port', '5173'],
      ['x-wingman-app-routes', value],
    ]);
    expect(withAppPort(app, 5173)).toEqual([
      ['content-type', 'text/html'],
      ['x-wingman-app-port', '5173'],
    ]);
    expect(withAppPort([['content-type', 'application/json']], 5173, value)).toEqual([['content-type', 'application/json']]);
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
