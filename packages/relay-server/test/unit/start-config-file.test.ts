/** `wingman start`'s config file: found, read, and every value checked as `wingman http` checks its flags. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStartConfig, MAX_TUNNELS } from '../../src/cli/start/config-file';
import { UsageError } from '../../src/cli/options';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wingman-start-config-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, content: unknown) => writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
const load = (env: NodeJS.ProcessEnv = {}, flags = {}) => loadStartConfig(flags, dir, env);

describe('loadStartConfig', () => {
  it("reads docs/cli.md's header rules example into the rules the forwarder applies", () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/cli.md'), 'utf8');
    const example = /### Header rules[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (example === undefined) throw new Error('docs/cli.md has no example under "Header rules"');
    write('wingman.json', example);
    expect(load().tunnels[0]!.config.headerRules).toEqual({
      request: { remove: ['x-debug-token'], set: [['x-team', 'blue']], add: [['x-review', '1']] },
      response: { remove: ['server'], set: [['cache-control', 'no-store']], add: [] },
    });
  });

  it('takes one proxy for every tunnel, from the file or, without one, the environment', () => {
    write('wingman.json', { server: 'https://tunnel.example.com', proxy: 'socks5://127.0.0.1:1080', tunnels: { a: { target: 1 }, b: { target: 2 } } });
    expect(load({ HTTPS_PROXY: 'http://other:3128' }).tunnels.map((t) => t.config.proxy)).toEqual([
      { url: 'socks5://127.0.0.1:1080', source: '--proxy' },
      { url: 'socks5://127.0.0.1:1080', source: '--proxy' },
    ]);
    write('wingman.json', { server: 'https://tunnel.example.com', tunnels: { a: { target: 1 } } });
    expect(load({ HTTPS_PROXY: 'http://other:3128' }).tunnels[0]!.config.proxy).toEqual({ url: 'http://other:3128', source: 'HTTPS_PROXY' });
    write('wingman.json', { proxy: 'ftp://x', tunnels: { a: { target: 1 } } });
    expect(() => load()).toThrow(/wingman\.json: proxy: invalid --proxy: scheme ftp: is not a proxy scheme/);
  });

  it("reads docs/cli.md's example file, its tunnel's policy as the server will get it", () => {
    const doc = readFileSync(join(__dirname, '../../../../docs/cli.md'), 'utf8');
    const example = /## Several tunnels[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (example === undefined) throw new Error('docs/cli.md has no example config under "Several tunnels"');
    write('wingman.json', example);
    const api = load().tunnels.find((t) => t.name === 'api')!.config;
    expect(api.addressRules).toEqual({ allow: ['10.0.0.0/8'], deny: [] });
  });

  it("reads a tunnel's routes and https target, the CA path relative to the file, and names the field of a bad route", () => {
    write('ca.pem', '');
    write('wingman.json', { tunnels: { web: { target: 'https://localhost:5173', targetInsecure: true, routes: { '/api': '8000', '/ws/': 8001 } } } });
    expect(load().tunnels[0]!.config).toMatchObject({
      target: { host: 'localhost', port: 5173, scheme: 'https', insecure: true },
      routes: [
        { prefix: '/api', target: { host: 'localhost', port: 8000 } },
        { prefix: '/ws', target: { host: 'localhost', port: 8001 } },
      ],
    });
    write('wingman.json', { tunnels: { web: { target: 'https://localhost:5173', targetCa: 'ca.pem' } } });
    expect(() => load()).toThrow(`${join(dir, 'wingman.json')}: tunnels.web.targetCa: invalid --target-ca ${join(dir, 'ca.pem')}: no PEM certificate`);
    write('wingman.json', { tunnels: { web: { target: 3000, routes: { api: 8000 } } } });
    expect(() => load()).toThrow(`${join(dir, 'wingman.json')}: tunnels.web.routes: invalid --route "api=8000"`);
  });

  it('reads ./wingman.json by default and maps each tunnel onto the same config as wingman http', () => {
    write('wingman.json', {
      server: 'https://tunnel.example.com/',
      token: 'tok',
      inspect: false,
      tunnels: {
        web: { target: 5173, hostHeader: 'preserve', timeout: 500, name: 'shop' },
        api: { target: '127.0.0.1:3000', p2p: false, password: 'pw', expires: '2h', approve: true, wsMaxMessageBytes: 4096 },
      },
    });
    const { path, tunnels } = load();
    expect(path).toBe(join(dir, 'wingman.json'));
    expect(tunnels.map((t) => t.name)).toEqual(['web', 'api']);
    const [web, api] = tunnels.map((t) => t.config);
    expect(web).toMatchObject({
      target: { host: 'localhost', port: 5173 },
      server: 'https://tunnel.example.com',
      token: 'tok',
      hostHeader: 'preserve',
      timeoutMs: 500,
      p2p: true,
      inspect: undefined,
      qr: false,
      name: 'shop',
    });
    expect(api!.name).toBeUndefined();
    expect(api).toMatchObject({
      target: { host: '127.0.0.1', port: 3000 },
      p2p: false,
      password: 'pw',
      expiresInMs: 7_200_000,
      approve: true,
      wsMaxMessageBytes: 4096,
    });
    expect(web!.approve).toBe(false);
  });

  it('takes the server and a password from the environment when the file has none', () => {
    write('wingman.json', { tunnels: { web: { target: '3000' } } });
    const [web] = load({ WINGMAN_SERVER: 'http://127.0.0.1:9000', WINGMAN_PASSWORD: 'envpw' }).tunnels;
    expect(web!.config).toMatchObject({ server: 'http://127.0.0.1:9000', password: 'envpw' });
  });

  it('reads the password from passwordFile, a relative path being relative to the config file', () => {
    write('pw.txt', 'from-file\n');
    write('wingman.json', { tunnels: { web: { target: '3000', passwordFile: 'pw.txt' } } });
    expect(load().tunnels[0]!.config.password).toBe('from-file');
  });

  it.each([
    ['a tunnel name with a space', { tunnels: { 'my app': { target: '3000' } } }, 'tunnels.my app: a tunnel name is 1-32 letters'],
    ['a target of the wrong type', { tunnels: { web: { target: true } } }, 'tunnels.web.target: '],
    ['a bad server', { server: 'ftp://x', tunnels: { web: { target: '3000' } } }, 'server: invalid --server "ftp://x": use http:// or https://'],
    ['a bad host header', { tunnels: { web: { target: '3000', hostHeader: 'a b' } } }, 'tunnels.web.hostHeader: invalid --host-header'],
    ['a name outside the rules', { tunnels: { web: { target: '3000', name: 'Shop!' } } }, 'tunnels.web.name: invalid --name'],
    [
      'a name with an expiry',
      { tunnels: { web: { target: '3000', name: 'shop', expires: '2h' } } },
      'tunnels.web.name: --name and --expires do not go together',
    ],
    ['a bad expiry', { tunnels: { web: { target: '3000', expires: 'soon' } } }, 'tunnels.web.expires: invalid --expires "soon"'],
    ['an unknown top-level key', { tunnels: { web: { target: '3000' } }, tunel: {} }, 'unknown key "tunel"'],
    [
      'a misspelt field, naming it and what it meant rather than the field it left missing',
      { tunnels: { web: { targt: 3000 } } },
      'tunnels.web: unknown key "targt" (did you mean "target"?); known: target, hostHeader, targetCa, targetInsecure, routes, p2p, timeout, password, passwordFile, expires, approve, public, name, wsMaxMessageBytes',
    ],
    ['a missing target', { tunnels: { web: {} } }, 'tunnels.web.target: missing: this field is required'],
    ['a target that is neither a string nor a number', { tunnels: { web: { target: true } } }, 'tunnels.web.target: expected string or number'],
    ['an unknown key unlike any known one', { tunnels: { web: { target: 3000, colour: 'red' } } }, 'tunnels.web: unknown key "colour"; known: target,'],
    [
      'a header rule on a field the tunnel owns',
      { tunnels: { web: { target: '3000', policy: { requestHeaders: { set: { Host: 'x' } } } } } },
      'tunnels.web.policy.requestHeaders.set.Host: host cannot be changed by a rule: the tunnel sets it: use hostHeader',
    ],
    ['a bad inspector port', { inspect: 70000, tunnels: { web: { target: '3000' } } }, 'inspect: invalid --inspect "70000"'],
    [
      'more tunnels than allowed',
      { tunnels: Object.fromEntries(Array.from({ length: MAX_TUNNELS + 1 }, (_, i) => [`t${i}`, { target: String(3000 + i) }])) },
      `tunnels: ${MAX_TUNNELS + 1} tunnels, at most ${MAX_TUNNELS}`,
    ],
  ])('refuses %s with a usage error naming the file and the field', (_what, content, message) => {
    write('wingman.json', content);
    expect(() => load()).toThrow(UsageError);
    expect(() => load()).toThrow(`${join(dir, 'wingman.json')}: ${message}`);
  });

  it('says where it looked when there is no config file', () => {
    expect(() => load()).toThrow(new UsageError(`no wingman.json in ${dir}; give --config <file>`));
  });
});
