/** `wingman http` options and environment, validated into one config. Every value comes from a user: each rejection is a one-line message. */
import {
  DEFAULT_WS_MESSAGE_LIMIT_BYTES,
  MAX_SESSION_EXPIRY_MS,
  MAX_VIEWER_PASSWORD_CHARS,
  MAX_WS_MESSAGE_BYTES,
  MIN_SESSION_EXPIRY_MS,
  sessionNameProblem,
} from '@wingman/protocol';
import { bufferBudgetFromEnv, DEFAULT_CAPTURE_BODY_LIMIT_BYTES, MAX_CAPTURE_BODY_LIMIT_BYTES, type HostHeaderMode } from '../forward';
import { DEFAULT_INSPECT_HISTORY, DEFAULT_INSPECT_PORT, MAX_INSPECT_HISTORY } from '../inspector';
import type { HeaderRules } from '../forward/header-rules';
import { resolveAllowedEmails } from './allowed-emails';
import { resolveAddressRules } from './address-rules';
import { DEFAULT_SERVER, envOf, type HttpCommandFlags } from './http-options';
import { resolveProxy } from './proxy-config';
import { resolveRoutes } from './route-option';
import { resolveTarget } from './target-option';
import { readUserFile, UsageError } from './usage-error';

/** The token embedded in `wingman-server` for local use (its DEFAULT_AGENT_TOKEN); public by design. */
const DEFAULT_TOKEN = 'wingman-local-dev-token';

/** One hour: a longer wait is no longer a timeout. */
const MAX_TIMEOUT_MS = 3_600_000;

export { UsageError } from './usage-error';

/** The validated options; undefined is the option's absence (no password, no expiry, no rules, a direct connection…). */
export type HttpConfig = ReturnType<typeof resolveHttpConfig>;

function parseServer(text: string): string {
  if (!URL.canParse(text)) throw new UsageError(`invalid --server "${text}": expected a URL such as http://localhost:8080`);
  const u = new URL(text);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`invalid --server "${text}": use http:// or https://`);
  if (u.username || u.password) throw new UsageError('--server must not carry credentials; use --token');
  return u.toString().replace(/\/$/, '');
}

function parseToken(text: string): string {
  // What fits a Bearer header unchanged (visible ASCII, as the server accepts).
  if (!/^[\x21-\x7e]{1,512}$/.test(text)) throw new UsageError('invalid token: expected 1-512 visible ASCII characters');
  return text;
}

function parseHostHeader(text: string): HostHeaderMode {
  if (text === 'rewrite' || text === 'preserve') return text;
  // An explicit Host value: a host name or address with an optional port.
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$/.test(text)) {
    throw new UsageError(`invalid --host-header "${text}": expected rewrite, preserve or a host[:port] value`);
  }
  return text;
}

function parsePassword(text: string, source: string): string {
  if (text.length === 0 || text.length > MAX_VIEWER_PASSWORD_CHARS)
    throw new UsageError(`invalid ${source}: expected 1-${MAX_VIEWER_PASSWORD_CHARS} characters`);
  // Control characters cannot be typed into a browser's password prompt.
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new UsageError(`invalid ${source}: control characters are not allowed`);
  return text;
}

/** `--password-file`, kept out of `ps` and shell history: the whole file minus one trailing newline (`echo secret > file`). */
function readPasswordFile(path: string): string {
  // Bounded: a password is short; a huge file is a mistake (or /dev/zero).
  const text = readUserFile(path, '--password-file ').slice(0, MAX_VIEWER_PASSWORD_CHARS + 2);
  return parsePassword(text.replace(/\r?\n$/, ''), '--password-file');
}

/** The viewer password: --password, else --password-file, else WINGMAN_PASSWORD. */
function resolvePassword(flags: HttpCommandFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (flags.password !== undefined && flags.passwordFile !== undefined) throw new UsageError('give --password or --password-file, not both');
  if (flags.password !== undefined) return parsePassword(flags.password, '--password');
  if (flags.passwordFile !== undefined) return readPasswordFile(flags.passwordFile);
  const fromEnv = env[envOf('--password')];
  return fromEnv ? parsePassword(fromEnv, envOf('--password')) : undefined;
}

/** Every local user can read the command line. */
export const PASSWORD_ARGV_WARNING =
  'warning: --password is visible to other users of this machine (ps, /proc); prefer WINGMAN_PASSWORD or --password-file <path>';

/** The local inspector's settings (docs/cli.md "Inspector"); `port`: the first tried, the next ones follow when it is taken. */
function parseInspect(flags: HttpCommandFlags): { port: number; bodyLimitBytes: number; history: number } | undefined {
  const text = flags.inspect ?? String(DEFAULT_INSPECT_PORT);
  if (text === 'false' || text === 'off') return undefined;
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535) throw new UsageError(`invalid --inspect "${text}": expected a port (0 for any free one) or false`);
  return {
    port: Number(text),
    bodyLimitBytes: parseInteger('--inspect-body-limit', flags.inspectBodyLimit, 0, MAX_CAPTURE_BODY_LIMIT_BYTES) ?? DEFAULT_CAPTURE_BODY_LIMIT_BYTES,
    history: parseInteger('--inspect-history', flags.inspectHistory, 1, MAX_INSPECT_HISTORY) ?? DEFAULT_INSPECT_HISTORY,
  };
}

const DURATION_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `2h`, `1d` (one number, one unit). */
function parseDuration(text: string, flag: string): number {
  const m = /^([0-9]{1,7})([smhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * DURATION_UNIT_MS[m[2]!]! : NaN;
  if (!(ms >= MIN_SESSION_EXPIRY_MS && ms <= MAX_SESSION_EXPIRY_MS))
    throw new UsageError(`invalid ${flag} "${text}": expected a duration such as 90s, 30m, 2h or 1d, from 1s to 30d`);
  return ms;
}

/** Undefined when the flag or variable is absent. */
function parseInteger(flag: string, text: string | undefined, min: number, max: number, what = 'an integer'): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(text) || Number(text) < min || Number(text) > max)
    throw new UsageError(`invalid ${flag} "${text}": expected ${what}, ${min}-${max}`);
  return Number(text);
}

/** Flags win over the environment (the variables of HTTP_OPTION_ROWS), which wins over defaults. Reads --password-file. */
export function resolveHttpConfig(targetText: string, flags: HttpCommandFlags, env: NodeJS.ProcessEnv) {
  // The variable is checked even when --no-p2p is given.
  const p2p = zeroOrOne(envOf('--no-p2p'), env[envOf('--no-p2p')]) !== '0' && flags.p2p !== false;
  const wsMaxEnv = env[envOf('--ws-max-message-bytes')];
  // Read by the forwarder of this process and the P2P host's (buffer-budget.ts): checked before either starts.
  const budget = bufferBudgetFromEnv(env);
  if ('problem' in budget) throw new UsageError(budget.problem);
  const server = parseServer(flags.server ?? (env[envOf('--server')] || DEFAULT_SERVER));
  return {
    target: resolveTarget(targetText, flags),
    routes: resolveRoutes(flags.route ?? [], flags),
    server,
    token: parseToken(flags.token ?? (env[envOf('--token')] || DEFAULT_TOKEN)),
    hostHeader: parseHostHeader(flags.hostHeader ?? 'rewrite'),
    json: flags.json === true,
    p2p,
    timeoutMs: parseInteger('--timeout', flags.timeout, 1, MAX_TIMEOUT_MS, 'milliseconds'),
    newSession: flags.newSession === true,
    // Forced on/off, or undefined to decide (terminal, public URL).
    qr: flags.qr,
    tui: flags.tui !== false,
    wsMaxMessageBytes:
      parseInteger('--ws-max-message-bytes', flags.wsMaxMessageBytes?.trim(), 1, MAX_WS_MESSAGE_BYTES, 'bytes') ??
      parseInteger(envOf('--ws-max-message-bytes'), wsMaxEnv ? wsMaxEnv.trim() : undefined, 1, MAX_WS_MESSAGE_BYTES, 'bytes') ??
      DEFAULT_WS_MESSAGE_LIMIT_BYTES,
    password: resolvePassword(flags, env),
    inspect: parseInspect(flags),
    expiresInMs: flags.expires === undefined ? undefined : parseDuration(flags.expires, '--expires'),
    approve: flags.approve === true || zeroOrOne('WINGMAN_APPROVE', env.WINGMAN_APPROVE) === '1',
    private: privateMode(flags, p2p),
    public: publicMode(flags, zeroOrOne('WINGMAN_PUBLIC', env.WINGMAN_PUBLIC)),
    name: parseName(flags),
    addressRules: resolveAddressRules(flags.allowIp, flags.denyIp),
    allowEmails: resolveAllowedEmails(flags.allowEmail),
    proxy: resolveProxy(server, flags.proxy, env),
    // Only from `wingman start`'s `policy.requestHeaders`/`responseHeaders`.
    headerRules: undefined as HeaderRules | undefined,
  };
}

/** --private needs P2P: its traffic goes nowhere else. */
function privateMode(flags: HttpCommandFlags, p2p: boolean): boolean {
  if (flags.private !== true) return false;
  if (!p2p) throw new UsageError(`--private needs P2P: drop --no-p2p (and ${envOf('--no-p2p')}=0)`);
  return true;
}

/** --public or WINGMAN_PUBLIC=1; refused with --private (its channels need the key anyway), which wins over the variable. */
function publicMode(flags: HttpCommandFlags, envValue: string | undefined): boolean {
  if (flags.public === true && flags.private === true)
    throw new UsageError('--public and --private do not go together: a private session is reached only with the link key');
  return flags.public === true || (envValue === '1' && flags.private !== true);
}

/** --name: the rules of @wingman/protocol's session-name.ts, checked before connecting; no --expires with it. */
function parseName(flags: HttpCommandFlags): string | undefined {
  if (flags.name === undefined) return undefined;
  const problem = sessionNameProblem(flags.name);
  if (problem) throw new UsageError(`invalid --name: ${problem}`);
  if (flags.expires !== undefined) throw new UsageError('--name and --expires do not go together: a named link is meant to come back every day');
  return flags.name;
}

/** A 0/1 variable (empty: unset), as given. */
function zeroOrOne(name: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value === '0' || value === '1') return value;
  throw new UsageError(`invalid ${name} "${value}": expected 0 or 1`);
}
