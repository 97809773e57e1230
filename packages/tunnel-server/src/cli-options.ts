/**
 * Every option `wingman-server` reads from its command line or environment, one row each: the env schema, the flag
 * parser, the names in error messages and `--help` derive from this table (config.ts). Adding an option is one row
 * here plus its field in optionsSchema; a unit test checks the table against .env.example both ways.
 */
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES } from '@wingman/protocol';
import { LIMIT_ENV } from './limits';

export const DEFAULT_PORT = 8080;
/** Loopback by default: a tunnel server is only exposed on purpose (`--host 0.0.0.0`). */
export const DEFAULT_HOST = '127.0.0.1';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How a flag's or variable's text becomes a value: int (non-negative), string, list (comma-separated), bool (true/false/1/0/yes/no). */
export type OptionKind = 'int' | 'string' | 'list' | 'bool';

/** `key`: the field in TunnelServerOptions (`p2p.timeoutMs`); `flag` (no dashes) wins over `env`; `value`, `help`, `shownDefault`: --help. */
export interface OptionRow {
  key: string;
  kind: OptionKind;
  flag?: string;
  env?: string;
  value?: string;
  help?: string;
  shownDefault?: string;
}

export const OPTION_ROWS: readonly OptionRow[] = [
  { key: 'port', kind: 'int', flag: 'port', env: 'PORT', value: '<n>', help: 'port to listen on', shownDefault: String(DEFAULT_PORT) },
  { key: 'host', kind: 'string', flag: 'host', env: 'HOST', value: '<addr>', help: 'address to bind', shownDefault: `${DEFAULT_HOST}: loopback only` },
  {
    key: 'domain',
    kind: 'string',
    flag: 'domain',
    env: 'WINGMAN_DOMAIN',
    value: '<d>',
    help: 'apex domain of session hosts',
    shownDefault: 'localhost:<port>',
  },
  {
    key: 'publicUrl',
    kind: 'string',
    flag: 'public-url',
    env: 'PUBLIC_URL',
    value: '<url>',
    help: 'scheme + domain viewers use, e.g. https://example.com',
    shownDefault: 'https:// with --tls-cert, else http://',
  },
  {
    key: 'tlsCertFile',
    kind: 'string',
    flag: 'tls-cert',
    env: 'TLS_CERT_FILE',
    value: '<file>',
    help: 'PEM certificate chain: serve HTTPS/WSS directly, no proxy needed; reloaded when the file changes',
  },
  { key: 'tlsKeyFile', kind: 'string', flag: 'tls-key', env: 'TLS_KEY_FILE', value: '<file>', help: 'PEM private key of --tls-cert' },
  {
    key: 'http2',
    kind: 'bool',
    flag: 'http2',
    env: 'HTTP2',
    help: 'with --tls-cert, serve HTTP/2 to browsers next to HTTP/1.1 on the same port (WebSockets stay HTTP/1.1); not on a cluster node (REDIS_URL); HTTP2=0 turns it off',
    shownDefault: 'on with --tls-cert',
  },
  {
    key: 'domainIsPublicSuffix',
    kind: 'bool',
    flag: 'domain-is-public-suffix',
    env: 'WINGMAN_DOMAIN_PUBLIC_SUFFIX',
    help: 'confirm the session domain is on the Public Suffix List (or accept what sessions share until it is); required for a domain other than localhost, *.localhost or an IP',
  },
  {
    key: 'trustProxy',
    kind: 'int',
    flag: 'trust-proxy',
    env: 'TRUST_PROXY',
    value: '<n>',
    help: 'reverse proxies in front of this server whose X-Forwarded-For entry names the viewer',
    shownDefault: '0',
  },
  {
    key: 'wsMaxMessageBytes',
    kind: 'int',
    flag: 'ws-max-message-bytes',
    env: 'WS_MAX_MESSAGE_BYTES',
    value: '<n>',
    help: 'largest relayed WebSocket message; a larger one closes its WebSocket with 1009',
    shownDefault: String(DEFAULT_WS_MESSAGE_LIMIT_BYTES),
  },
  {
    key: 'stateDir',
    kind: 'string',
    flag: 'state-dir',
    env: 'WINGMAN_SERVER_STATE_DIR',
    value: '<dir>',
    help: 'where the session key lives, so agents get their URL back after a restart',
    shownDefault: '~/.local/state/wingman-server',
  },
  { key: 'logLevel', kind: 'string', flag: 'log-level', env: 'LOG_LEVEL', value: '<l>', help: LOG_LEVELS.join(' | '), shownDefault: 'info' },
  { key: 'tokens', kind: 'list', env: 'WINGMAN_TOKENS', help: 'comma list; default: an embedded token for local use only' },
  { key: 'sessionGraceMs', kind: 'int', env: 'SESSION_GRACE_MS' },
  { key: 'p2p.enabled', kind: 'bool', env: 'P2P_ENABLED' },
  { key: 'p2p.timeoutMs', kind: 'int', env: 'P2P_TIMEOUT_MS' },
  { key: 'p2p.stunServers', kind: 'list', env: 'STUN_SERVERS' },
  { key: 'p2p.turnUrls', kind: 'list', env: 'TURN_URLS' },
  { key: 'p2p.turnSecret', kind: 'string', env: 'TURN_SECRET' },
  { key: 'p2p.turnTtlS', kind: 'int', env: 'TURN_TTL_S' },
  { key: 'p2p.videoSection', kind: 'bool', env: 'P2P_VIDEO_SECTION' },
  { key: 'p2p.lossProbe', kind: 'bool', env: 'P2P_LOSS_PROBE' },
  { key: 'p2p.bulkRace', kind: 'bool', env: 'P2P_BULK_RACE' },
  { key: 'p2p.pathChoice', kind: 'bool', env: 'P2P_PATH_CHOICE' },
  { key: 'redisUrl', kind: 'string', env: 'REDIS_URL', help: 'several nodes sharing sessions' },
  { key: 'nodeUrl', kind: 'string', env: 'WINGMAN_NODE_URL', help: 'this node as the others reach it' },
  { key: 'clusterSecret', kind: 'string', env: 'WINGMAN_CLUSTER_SECRET', help: 'the secret every node shares' },
  { key: 'metricsToken', kind: 'string', env: 'METRICS_TOKEN', help: 'bearer token /metrics requires' },
  {
    key: 'oidc.issuer',
    kind: 'string',
    flag: 'oidc-issuer',
    env: 'OIDC_ISSUER',
    value: '<url>',
    help: 'OpenID Connect issuer viewers sign in with on sessions shared with --allow-email (its redirect URI: <public URL>/__wingman/sign-in/callback); needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET',
  },
  {
    key: 'oidc.clientId',
    kind: 'string',
    flag: 'oidc-client-id',
    env: 'OIDC_CLIENT_ID',
    value: '<id>',
    help: 'client id of this server at the OpenID Connect issuer',
  },
  { key: 'oidc.clientSecret', kind: 'string', env: 'OIDC_CLIENT_SECRET', help: 'client secret of this server at the OpenID Connect issuer' },
  {
    key: 'oidc.prompt',
    kind: 'string',
    env: 'OIDC_PROMPT',
    help: 'prompt sent to the issuer on each sign-in: login, consent or select_account (default: none)',
  },
  { key: 'signInTtlS', kind: 'int', env: 'SIGN_IN_TTL_S' },
  // Quotas: tuning knobs, variables only (docs/operations.md "Limits").
  ...Object.entries(LIMIT_ENV).map(([key, env]): OptionRow => ({ key: `limits.${key}`, kind: 'int', env })),
];

/** Flags that are not options of the server. */
export const CLI_ONLY_FLAGS = [
  { flag: 'json', help: 'print {"event":"listening",...} instead of the plain URL line' },
  { flag: 'help', short: 'h', help: 'show this help' },
] as const;

/** Where an option comes from, for error messages: `--port / PORT`, `WINGMAN_TOKENS`. */
export function sourceName(row: OptionRow): string {
  return [row.flag && `--${row.flag}`, row.env].filter(Boolean).join(' / ');
}

const HELP_WIDTH = 88;
const HELP_COLUMN = 22;

export function usageText(): string {
  const lines = [
    'Usage: wingman-server [options]',
    '',
    'Runs a Wingman tunnel server: agents (`wingman http <port>`) register here and',
    'viewers open http://<session>.<domain>/.',
    '',
    'Options:',
  ];
  const entry = (left: string, help: string) => {
    const words = wrap(help, HELP_WIDTH - HELP_COLUMN);
    if (left.length <= HELP_COLUMN - 4)
      lines.push(`  ${left.padEnd(HELP_COLUMN - 2)}${words[0] ?? ''}`, ...words.slice(1).map((w) => ' '.repeat(HELP_COLUMN) + w));
    else lines.push(`  ${left}`, ...words.map((w) => ' '.repeat(HELP_COLUMN) + w));
  };
  for (const row of OPTION_ROWS) {
    if (!row.flag) continue;
    const origin = [row.env, row.shownDefault !== undefined ? `default ${row.shownDefault}` : undefined].filter(Boolean).join(', ');
    entry(`--${row.flag}${row.value ? ` ${row.value}` : ''}`, `${row.help ?? ''}${origin ? ` (${origin})` : ''}`);
  }
  for (const f of CLI_ONLY_FLAGS) entry(`${'short' in f ? `-${f.short}, ` : ''}--${f.flag}`, f.help);
  const envOnly = OPTION_ROWS.filter((r) => !r.flag && r.env && !r.key.startsWith('limits.')).map((r) => (r.help ? `${r.env} (${r.help})` : r.env!));
  const quotas = OPTION_ROWS.filter((r) => r.key.startsWith('limits.')).map((r) => r.env!);
  lines.push(
    '',
    ...wrap(`Environment: ${envOnly.join(', ')}, and the quotas ${quotas.join(', ')}. Each flag also has its variable, named above.`, HELP_WIDTH),
    'See .env.example and docs/operations.md (§Limits).',
  );
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
