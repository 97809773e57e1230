/** Stable session names (`--name shop` → `shop.<domain>`), checked by agent and server. docs/cli.md §Stable names. */
import { SESSION_ID_PATTERN } from './control';

/** Shorter than a session id (26), so the two never meet. */
export const MIN_SESSION_NAME_CHARS = 3;
export const MAX_SESSION_NAME_CHARS = 25;

/** Lower-case letters, digits and inner hyphens; starts with a letter. */
export const SESSION_NAME_PATTERN = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/** Hosts an operator's domain may need beside the sessions, and names that would pass for Wingman's own. */
export const RESERVED_SESSION_NAMES: ReadonlySet<string> = new Set([
  'www',
  'api',
  'admin',
  'administrator',
  'app',
  'apps',
  'auth',
  'login',
  'account',
  'accounts',
  'dashboard',
  'status',
  'metrics',
  'health',
  'static',
  'assets',
  'cdn',
  'mail',
  'email',
  'smtp',
  'imap',
  'pop',
  'pop3',
  'mx',
  'ns1',
  'ns2',
  'dns',
  'ftp',
  'ssh',
  'vpn',
  'turn',
  'stun',
  'autoconfig',
  'autodiscover',
  'wpad',
  'mta-sts',
  'localhost',
  'wingman',
  'tunnel',
  'root',
  'test',
]);

/** Why `name` is not a valid session name, or undefined when it is one. */
export function sessionNameProblem(name: string): string | undefined {
  if (name.length < MIN_SESSION_NAME_CHARS || name.length > MAX_SESSION_NAME_CHARS)
    return `a name has ${MIN_SESSION_NAME_CHARS} to ${MAX_SESSION_NAME_CHARS} characters ("${name.slice(0, 40)}" has ${name.length})`;
  if (!SESSION_NAME_PATTERN.test(name))
    return `"${name}" is not a name: use lower-case letters, digits and hyphens, starting with a letter and not ending with a hyphen`;
  if (name.includes('--')) return `"${name}" has two hyphens in a row (DNS keeps those for encoded names such as xn--)`;
  if (RESERVED_SESSION_NAMES.has(name)) return `"${name}" is reserved (${[...RESERVED_SESSION_NAMES].slice(0, 6).join(', ')}, …: docs/cli.md lists them)`;
  return undefined;
}

export const isSessionName = (label: string): boolean => sessionNameProblem(label) === undefined;

/** A label that can name a session on its host: a random session id or a stable name. */
export const isSessionLabel = (label: string): boolean => SESSION_ID_PATTERN.test(label) || isSessionName(label);
