/**
 * The operator files in deploy/, checked with the tools that read them:
 * the systemd unit passes `systemd-analyze verify` (pointed at the installed
 * `wingman-server` and the repository's env file), the installed server
 * starts with exactly the unit's and the env file's settings and answers the
 * TLS permission check Caddy is told to ask, and the Caddyfile passes
 * `caddy validate` and asks that very address.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { send } from '../helpers/http-client';
import { installedPackageForFile } from '../helpers/installed-package';
import { killAll, ROOT, startCommand } from '../helpers/processes';

jest.setTimeout(60_000);

const UNIT = join(ROOT, 'deploy/wingman-server.service');
const ENV_FILE = join(ROOT, 'deploy/wingman-server.env');
const CADDYFILE = join(ROOT, 'deploy/Caddyfile');
/** systemd-analyze and caddy validate answer within a second or two. */
const TOOL_TIMEOUT_MS = 30_000;

const installed = installedPackageForFile();
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'wingman-deploy-files-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(async () => {
  await killAll();
});

function tool(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: TOOL_TIMEOUT_MS, env: { ...process.env, ...env } }, (err, out, errOut) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
        return reject(new Error(`\`${command}\` is missing: apt-get install ${command === 'caddy' ? 'caddy' : 'systemd'}`));
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
    });
  });
}

/** KEY=VALUE lines, as systemd reads an EnvironmentFile (comments and blank lines skipped). */
function envFileValues(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) values[m[1]!] = m[2]!;
  }
  return values;
}

/** The unit's `Key=value` settings of one section, in order. */
function unitSettings(text: string, section: string): Array<[string, string]> {
  const body = text.split(/^\[/m).find((s) => s.startsWith(`${section}]`)) ?? '';
  return body
    .split('\n')
    .slice(1)
    .map((l) => /^([A-Za-z]+)=(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
}

describe('deploy/wingman-server.service', () => {
  it('passes systemd-analyze verify, run as the installed wingman-server with the env file', async () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(unitSettings(unit, 'Service')).toEqual(
      expect.arrayContaining([
        ['ExecStart', '/usr/local/bin/wingman-server'],
        ['EnvironmentFile', '/etc/wingman-server.env'],
      ]),
    );
    const local = unit
      .replace('ExecStart=/usr/local/bin/wingman-server', `ExecStart=${installed().bin('wingman-server')}`)
      .replace('EnvironmentFile=/etc/wingman-server.env', `EnvironmentFile=${ENV_FILE}`);
    const copy = join(work, 'wingman-server.service');
    writeFileSync(copy, local);
    const verified = await tool('systemd-analyze', ['verify', copy], { SYSTEMD_LOG_LEVEL: 'notice' });
    expect(verified).toEqual({ code: 0, out: '', err: '' });
  });

  it("starts the installed server with the unit's and the env file's settings, on the address the Caddyfile asks", async () => {
    if (Object.keys(networkInterfaces()).some((name) => name !== 'lo'))
      throw new Error("run this test through `npm test` (a loopback-only network namespace): it binds the env file's port 8080");
    const env = envFileValues(readFileSync(ENV_FILE, 'utf8'));
    const stateDir = unitSettings(readFileSync(UNIT, 'utf8'), 'Service').find(([k, v]) => k === 'Environment' && v.startsWith('WINGMAN_SERVER_STATE_DIR='))![1];
    expect(stateDir).toBe('WINGMAN_SERVER_STATE_DIR=%S/wingman-server');
    const server = startCommand(installed().bin('wingman-server'), [], { ...env, WINGMAN_SERVER_STATE_DIR: join(work, 'state') });
    await server.waitForLine((l) => l === `Wingman tunnel server listening on ${env.PUBLIC_URL}`, { stream: 'stdout', timeoutMs: 20_000 });

    const ask = /^\s*ask (http:\/\/[^\s]+)$/m.exec(readFileSync(CADDYFILE, 'utf8'))![1]!;
    const askUrl = new URL(ask);
    expect(askUrl.host).toBe(`${env.HOST}:${env.PORT}`);
    const apex = new URL(env.PUBLIC_URL!).hostname;
    const allowed = await send(Number(askUrl.port), askUrl.host, { path: `${askUrl.pathname}?domain=${apex}` });
    expect(allowed.status).toBe(200);
    const refused = await send(Number(askUrl.port), askUrl.host, { path: `${askUrl.pathname}?domain=random.${apex}` });
    expect(refused.status).toBe(404);
  });
});

describe('deploy/Caddyfile', () => {
  it('passes caddy validate', async () => {
    const validated = await tool('caddy', ['validate', '--adapter', 'caddyfile', '--config', CADDYFILE], {
      HOME: work,
      XDG_DATA_HOME: join(work, 'data'),
      XDG_CONFIG_HOME: join(work, 'config'),
    });
    expect({ code: validated.code, err: validated.err.includes('Valid configuration') || validated.out.includes('Valid configuration') }).toEqual({
      code: 0,
      err: true,
    });
  });
});
