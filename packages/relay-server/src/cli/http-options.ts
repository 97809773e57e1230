/**
 * Every option of `wingman http`, one row each: its flag, the environment
 * variable that stands in for it, its default as --help shows it, and what it
 * does. cli.ts registers the commander options from this table (so --help
 * derives from it) and options.ts reads each variable by the row's name; a unit
 * test checks the table against .env.example both ways. Adding an option: one
 * row here and its parse in resolveHttpConfig.
 */
import { Option } from 'commander';
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES } from '@wingman/protocol';
import { DEFAULT_CAPTURE_BODY_LIMIT_BYTES, DEFAULT_RESPONSE_TIMEOUT_MS } from '../forward';
import { DEFAULT_INSPECT_HISTORY, DEFAULT_INSPECT_PORT } from '../inspector';
import { collect } from './address-rules';

/** The quick start's local tunnel server (`wingman-server` on its default port). */
export const DEFAULT_SERVER = 'http://localhost:8080';

interface HttpOptionRow {
  /** commander's flag syntax: `--server <url>`, `--json`, `--no-p2p`. */
  flags: string;
  /** What it does (--help). */
  help: string;
  /** The environment variable used when the flag is not given. */
  env?: string;
  /** How --help shows the variable when not just its name (`WINGMAN_P2P=0`). */
  envShown?: string;
  /** The default as --help shows it. */
  shownDefault?: string;
  /** Given several times, each value is kept (commander collects them into a list). */
  repeatable?: true;
}

export const HTTP_OPTION_ROWS = [
  { flags: '--server <url>', env: 'WINGMAN_SERVER', shownDefault: DEFAULT_SERVER, help: 'tunnel server URL' },
  {
    flags: '--proxy <url>',
    shownDefault: 'HTTPS_PROXY, http_proxy, ALL_PROXY as curl reads them, minus NO_PROXY',
    help: "reach the tunnel server through this proxy: http://[user:password@]host:port (CONNECT) or socks5://…; '' for none",
  },
  { flags: '--token <token>', env: 'WINGMAN_TOKEN', shownDefault: 'the local development token', help: 'agent token' },
  { flags: '--host-header <mode>', help: "Host sent to the app: rewrite (its own host:port), preserve (the viewer's) or a value" },
  { flags: '--target-ca <file>', help: "https target: PEM CA certificate(s) its certificate is verified against, besides Node's store (mkcert's rootCA.pem)" },
  {
    flags: '--route <prefix=target>',
    repeatable: true,
    help: 'serve requests under <prefix> from another local app under the same link, e.g. /api=8000 (repeatable; the longest matching prefix wins)',
  },
  { flags: '--target-insecure', help: 'https target on loopback: accept its certificate unverified (self-signed dev certificates)' },
  { flags: '--json', help: 'one JSON object per line; the first is {"event":"ready","url":...}' },
  { flags: '--no-p2p', env: 'WINGMAN_P2P', envShown: 'WINGMAN_P2P=0', help: 'relay only: never offer peer-to-peer' },
  {
    flags: '--timeout <ms>',
    shownDefault: String(DEFAULT_RESPONSE_TIMEOUT_MS),
    help: "wait for the app's response head (after the last request-body chunk) before answering 504",
  },
  { flags: '--new-session', help: "do not resume this agent's previous session of this server and port (new URL)" },
  {
    flags: '--name <name>',
    help: 'a stable link, <name>.<domain>, the same on every run: the name belongs to your agent token (3-25 of a-z, 0-9, -)',
  },
  { flags: '--qr', shownDefault: 'on a terminal, when the URL is not a localhost one', help: 'print the URL as a QR code' },
  { flags: '--no-qr', help: 'never print the QR code' },
  { flags: '--no-tui', help: 'on a terminal, print one line per event instead of redrawing one screen' },
  {
    flags: '--ws-max-message-bytes <n>',
    env: 'WINGMAN_WS_MAX_MESSAGE_BYTES',
    shownDefault: String(DEFAULT_WS_MESSAGE_LIMIT_BYTES),
    help: 'largest WebSocket message relayed either way; a larger one closes its WebSocket with 1009',
  },
  {
    flags: '--password <password>',
    env: 'WINGMAN_PASSWORD',
    help: 'viewers must enter this password (HTTP Basic, any user name); visible in ps: prefer the variable or --password-file',
  },
  { flags: '--password-file <path>', help: 'read the viewer password from this file (one trailing newline ignored)' },
  { flags: '--expires <duration>', help: 'end the session after this long (90s, 30m, 2h, 1d): the link stops working and viewers see that it expired' },
  {
    flags: '--approve',
    env: 'WINGMAN_APPROVE',
    envShown: 'WINGMAN_APPROVE=1',
    help: 'admit each new viewer yourself (terminal keys or the inspector); until then it sees a waiting page',
  },
  {
    flags: '--public',
    env: 'WINGMAN_PUBLIC',
    envShown: 'WINGMAN_PUBLIC=1',
    help: "anyone who knows the session's host name may open it, without the link's #k= part (host names are discoverable: certificate logs, DNS)",
  },
  {
    flags: '--allow-ip <cidr>',
    repeatable: true,
    help: 'only viewers from this network may reach the session (10.0.0.0/8, 2001:db8::/32, or one address); repeatable',
  },
  { flags: '--deny-ip <cidr>', repeatable: true, help: 'viewers from this network may not reach the session, even if allowed; repeatable' },
  {
    flags: '--allow-email <pattern>',
    repeatable: true,
    help: "viewers sign in with the tunnel server's identity provider, and only this email (alice@example.com) or domain ('*@example.com') gets in; repeatable; the server must have sign-in configured",
  },
  {
    flags: '--private',
    help: 'no relay for this session: the app is reachable only over a P2P channel verified with the link key (the server never sees its traffic)',
  },
  {
    flags: '--inspect <port|false>',
    shownDefault: `${DEFAULT_INSPECT_PORT}, the next free one if taken`,
    help: 'local inspector on http://127.0.0.1:<port>; false: off',
  },
  {
    flags: '--inspect-body-limit <bytes>',
    shownDefault: String(DEFAULT_CAPTURE_BODY_LIMIT_BYTES),
    help: 'bytes of each request and response body the inspector keeps',
  },
  { flags: '--inspect-history <n>', shownDefault: String(DEFAULT_INSPECT_HISTORY), help: 'requests the inspector keeps, oldest dropped first' },
] as const satisfies readonly HttpOptionRow[];

/** `ws-max-message-bytes` → `wsMaxMessageBytes`, as commander names an option's value. */
type Camel<S extends string> = S extends `${infer A}-${infer B}` ? `${A}${Capitalize<Camel<B>>}` : S;
type FlagKey<F extends string> = F extends `--no-${infer N}`
  ? Camel<N>
  : F extends `--${infer N} ${string}`
    ? Camel<N>
    : F extends `--${infer N}`
      ? Camel<N>
      : never;
type FlagValue<R extends HttpOptionRow> = R extends { repeatable: true } ? string[] : R['flags'] extends `${string} <${string}` ? string : boolean;

/** What commander parsed, one field per row: `p2p` and `tui` are false with --no-p2p, --no-tui; `qr` is --qr/--no-qr. */
export type HttpCommandFlags = { [R in (typeof HTTP_OPTION_ROWS)[number] as FlagKey<R['flags']>]?: FlagValue<R> };

/** The variable of the row whose flags start with `flag` (`--server`). Throws for a row without one: a programming error. */
export function envOf(flag: string): string {
  const row = (HTTP_OPTION_ROWS as readonly HttpOptionRow[]).find((r) => r.flags === flag || r.flags.startsWith(`${flag} `));
  if (!row?.env) throw new Error(`no environment variable for ${flag}`);
  return row.env;
}

/** The commander options of `wingman http`, with their help lines. */
export function httpOptions(): Option[] {
  return (HTTP_OPTION_ROWS as readonly HttpOptionRow[]).map((row) => {
    const notes = [row.env && `env ${row.envShown ?? row.env}`, row.shownDefault && `default ${row.shownDefault}`].filter(Boolean);
    const option = new Option(row.flags, notes.length > 0 ? `${row.help} (${notes.join('; ')})` : row.help);
    return row.repeatable ? option.argParser(collect) : option;
  });
}
