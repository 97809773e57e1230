/**
 * Tunnel server configuration: programmatic options (createTunnelServer), and
 * the same options read from CLI flags and environment variables (the
 * wingman-server bin). Everything is validated with zod at run time; a bad
 * value is a ConfigError that names the flag or variable.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES, MAX_WS_MESSAGE_BYTES } from '@wingman/protocol';
import { z } from 'zod';
import { LIMIT_ENV, limitsSchema, type LimitOptions } from './limits';

/** Port the server listens on when none is given. */
export const DEFAULT_PORT = 8080;
/** Loopback by default: a tunnel server is only exposed on purpose (`--host 0.0.0.0`). */
export const DEFAULT_HOST = '127.0.0.1';
/**
 * The embedded agent token, for local use only: anyone who reads this source
 * knows it. A server on a non-loopback host refuses to start with it.
 */
export const DEFAULT_AGENT_TOKEN = 'wingman-local-dev-token';
/** How long a session outlives its agent's disconnect, so a reconnecting agent gets the same URL back. */
export const DEFAULT_SESSION_GRACE_MS = 30_000;
/** How long a viewer tries ICE before it stays on the relay. */
export const DEFAULT_VIEWER_ICE_TIMEOUT_MS = 3_000;
/** Lifetime of TURN credentials (TURN REST API), seconds. */
export const DEFAULT_TURN_TTL_S = 3_600;
/** Interval of protocol PINGs to each agent; a missed PONG (with nothing moving on the connection meanwhile) closes the agent. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
/** How long an agent has to answer a PING. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface P2POptions {
  /** Offer P2P to agents that support it. Default true. */
  enabled?: boolean;
  /** How long a viewer tries ICE before it stays on the relay, ms. Default 3000. */
  timeoutMs?: number;
  /** STUN URLs handed to both peers (`stun:host:port`). Default none (host candidates only). */
  stunServers?: string[];
  /** TURN URLs (`turn:host:3478?transport=udp`); need `turnSecret`. */
  turnUrls?: string[];
  /** Shared secret of the TURN server (coturn `static-auth-secret`), used to mint short-lived credentials. */
  turnSecret?: string;
  /** Lifetime of minted TURN credentials, seconds. Default 3600. */
  turnTtlS?: number;
}

export interface TunnelServerOptions {
  /** TCP port; 0 picks a free one (tests). Default 8080. */
  port?: number;
  /** Address to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Apex domain of session hosts (`<id>.<domain>`), optionally with a port. Default: the host of `publicUrl`, else `localhost:<port>`. */
  domain?: string;
  /** Scheme and host that viewers use (`https://example.com` behind a TLS proxy). Default `http://<domain>`, `https://<domain>` with `tlsCertFile`. */
  publicUrl?: string;
  /** Agent tokens accepted as `Authorization: Bearer <token>`. Default: the embedded local token. */
  tokens?: string[];
  /** How long a session survives its agent's disconnect, ms. Default 30000. */
  sessionGraceMs?: number;
  /** Interval of PINGs to agents, ms. Default 15000. */
  heartbeatIntervalMs?: number;
  /** Time an agent has to answer a PING, ms. Default 10000. */
  heartbeatTimeoutMs?: number;
  /** pino level. Default 'info'. */
  logLevel?: LogLevel;
  /** P2P settings sent to agents in `registered.p2p`. */
  p2p?: P2POptions;
  /**
   * Redis of a cluster's shared session directory (`redis://host:6379`).
   * Unset: a single node, sessions in memory only.
   */
  redisUrl?: string;
  /** This node's base URL as the other nodes reach it (cluster only). Default `http://<host>:<port>`. */
  nodeUrl?: string;
  /**
   * Reverse proxies in front of this server (a TLS terminator, a load
   * balancer) whose X-Forwarded-For entry is trusted for the viewer's
   * address (per-viewer limits). Default 0: the socket's peer is the viewer.
   */
  trustProxy?: number;
  /**
   * Largest WebSocket message relayed, bytes, either way (1 … 64 MiB). A
   * viewer's or the agent's message over it closes that WebSocket with 1009.
   * Default DEFAULT_WS_MESSAGE_LIMIT_BYTES (1 MiB).
   */
  wsMaxMessageBytes?: number;
  /** Quotas per viewer, source address and token (limits.ts). */
  limits?: LimitOptions;
  /**
   * Bearer token that `/metrics` (and the landing page's session count)
   * require. Unset: both are public on the apex host.
   */
  metricsToken?: string;
  /**
   * Directory of what the server keeps across restarts: the session key that
   * lets agents claim their URL back (sessions/session-key.ts). Default
   * `$XDG_STATE_HOME/wingman-server`, else `~/.local/state/wingman-server`.
   */
  stateDir?: string;
  /**
   * A secret every node of a cluster is configured with: the keys they share
   * (access cookies, hop header, session ids) derive from it instead of
   * being agreed on through Redis, and the session key is not read from the
   * state directory. At least 32 characters.
   */
  clusterSecret?: string;
  /**
   * The operator confirms that the session domain (`domain`, else the host of
   * `publicUrl`) is on the Public Suffix List, or accepts what sessions share
   * until it is (docs/deploy.md, "Session isolation"). Without it, a domain
   * other than `localhost`, `*.localhost` or an IP address is refused.
   */
  domainIsPublicSuffix?: boolean;
  /**
   * PEM certificate chain file: the server speaks HTTPS (and WSS) itself, and
   * the default public URL is `https://`. Needs `tlsKeyFile`. Re-read when it
   * changes on disk (certificate renewal), without dropping connections.
   */
  tlsCertFile?: string;
  /** PEM private key file of `tlsCertFile`. */
  tlsKeyFile?: string;
}

/** The server's default state directory: $XDG_STATE_HOME/wingman-server, else ~/.local/state/wingman-server. */
export function defaultServerStateDir(env: Record<string, string | undefined> = process.env): string {
  return env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'wingman-server') : join(homedir(), '.local', 'state', 'wingman-server');
}

/** Most trusted proxy hops `trustProxy` accepts: more than any real chain, few enough to catch a typo. */
export const MAX_TRUST_PROXY = 10;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]{1,500}$/;
// A domain: DNS labels, optional port. Lower-cased so Host matching is case-insensitive.
const DOMAIN = /^(?=.{1,253}(:|$))[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;
// Tokens travel in an HTTP header: visible ASCII only.
const TOKEN = /^[\x21-\x7e]{8,512}$/;

const ms = (max: number) => z.number().int().min(0).max(max);

/** An http(s) origin without path or query: the public URL, a node's URL. */
const baseUrl = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http:// or https:// URL')
  .refine((u) => new URL(u).pathname === '/' && !new URL(u).search, 'must have no path or query');

const p2pSchema = z
  .object({
    enabled: z.boolean().default(true),
    timeoutMs: ms(600_000).default(DEFAULT_VIEWER_ICE_TIMEOUT_MS),
    stunServers: z.array(z.string().regex(ICE_URL, 'must be a stun: URL')).max(16).default([]),
    turnUrls: z.array(z.string().regex(ICE_URL, 'must be a turn: URL')).max(16).default([]),
    turnSecret: z.string().min(1).optional(),
    turnTtlS: z.number().int().min(60).max(86_400).default(DEFAULT_TURN_TTL_S),
  })
  .strict()
  .refine((p) => p.turnUrls.length === 0 || p.turnSecret !== undefined, { message: 'TURN URLs need a TURN secret', path: ['turnSecret'] });

export const optionsSchema = z
  .object({
    port: z.number().int().min(0).max(65_535).default(DEFAULT_PORT),
    host: z.string().min(1).max(255).default(DEFAULT_HOST),
    domain: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.string().regex(DOMAIN, 'must be a domain name, optionally with :port'))
      .optional(),
    publicUrl: baseUrl.optional(),
    tokens: z.array(z.string().regex(TOKEN, 'tokens are 8-512 visible ASCII characters')).min(1).max(1000).default([DEFAULT_AGENT_TOKEN]),
    sessionGraceMs: ms(86_400_000).default(DEFAULT_SESSION_GRACE_MS),
    heartbeatIntervalMs: z.number().int().min(10).max(3_600_000).default(DEFAULT_HEARTBEAT_INTERVAL_MS),
    heartbeatTimeoutMs: z.number().int().min(10).max(600_000).default(DEFAULT_HEARTBEAT_TIMEOUT_MS),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    p2p: p2pSchema.default({}),
    redisUrl: z
      .string()
      .url()
      .refine((u) => /^rediss?:$/.test(new URL(u).protocol), 'must be a redis:// or rediss:// URL')
      .optional(),
    nodeUrl: baseUrl.optional(),
    trustProxy: z.number().int().min(0).max(MAX_TRUST_PROXY).default(0),
    wsMaxMessageBytes: z.number().int().min(1).max(MAX_WS_MESSAGE_BYTES).default(DEFAULT_WS_MESSAGE_LIMIT_BYTES),
    limits: limitsSchema.default({}),
    metricsToken: z.string().regex(TOKEN, 'tokens are 8-512 visible ASCII characters').optional(),
    stateDir: z
      .string()
      .min(1)
      .max(4096)
      .default(() => defaultServerStateDir()),
    clusterSecret: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)').max(1024).optional(),
    domainIsPublicSuffix: z.boolean().default(false),
    tlsCertFile: z.string().min(1).max(4096).optional(),
    tlsKeyFile: z.string().min(1).max(4096).optional(),
  })
  .strict()
  // The embedded token is public: on an address others can reach, anyone could register agents.
  .refine((o) => isLoopbackHost(o.host) || !o.tokens.includes(DEFAULT_AGENT_TOKEN), (o) => ({
    path: ['tokens'],
    message: `the embedded local token cannot be used on the non-loopback host ${o.host}: anyone could register agents. Set WINGMAN_TOKENS (e.g. openssl rand -hex 32)`,
  }))
  .refine((o) => (o.tlsCertFile === undefined) === (o.tlsKeyFile === undefined), { message: 'a TLS certificate and its key go together: give both or neither', path: ['tlsCertFile'] })
  .superRefine((o, ctx) => {
    const problem = domainIsolationProblem(o.domain ?? (o.publicUrl ? new URL(o.publicUrl).host : undefined), o.domainIsPublicSuffix);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['domainIsPublicSuffix'], message: problem });
  });

/** Host names that are their own site in every browser: sessions under them need no Public Suffix List entry. */
function isLocalName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0;
}

/**
 * Why a session domain must not be used as configured (undefined: fine).
 * Browsers treat `<a>.<domain>` and `<b>.<domain>` as one site unless
 * `<domain>` is a public suffix: a page of one session then sends another's
 * SameSite=Strict cookies, and its script can set a cookie for `<domain>`
 * (document.cookie) that every session's app receives. The operator must
 * say the domain is on the Public Suffix List, or accept that.
 */
export function domainIsolationProblem(domain: string | undefined, confirmed: boolean): string | undefined {
  if (domain === undefined || confirmed) return undefined;
  const hostname = domain.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  if (isLocalName(hostname)) return undefined;
  return (
    `sessions would live at <id>.${hostname}, which browsers treat as one site unless ${hostname} is on the Public Suffix List: ` +
    `one session's pages could send another's SameSite cookies and set cookies every session receives. ` +
    `Once ${hostname} is on the list (or to accept that until then), pass --domain-is-public-suffix / WINGMAN_DOMAIN_PUBLIC_SUFFIX=1. ` +
    `See docs/deploy.md ("Session isolation and the Public Suffix List").`
  );
}

export type TunnelServerConfig = z.output<typeof optionsSchema>;

/** Validates options and fills defaults. Throws ConfigError naming each bad field. */
export function resolveConfig(options: TunnelServerOptions = {}): TunnelServerConfig {
  const result = optionsSchema.safeParse(options);
  if (!result.success) throw new ConfigError(formatIssues(result.error, (path) => path.join('.')));
  return result.data;
}

/** True when the server speaks TLS itself (`--tls-cert` / `--tls-key`). */
export function usesTls(config: TunnelServerConfig): boolean {
  return config.tlsCertFile !== undefined;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// ---- CLI flags and environment ---------------------------------------------

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const intVar = z.preprocess(unsetIfEmpty, z.string().trim().regex(/^\d{1,10}$/, 'must be a non-negative integer').transform(Number).optional());
const listVar = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .optional(),
);
const boolVar = z.preprocess(
  (v) => (typeof v === 'string' ? unsetIfEmpty(v.trim().toLowerCase()) : v),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => v === 'true' || v === '1' || v === 'yes')
    .optional(),
);
const strVar = z.preprocess(unsetIfEmpty, z.string().optional());

/** Every environment variable the server reads (documented in .env.example and the package README). */
const envSchema = z.object({
  PORT: intVar,
  HOST: strVar,
  WINGMAN_DOMAIN: strVar,
  PUBLIC_URL: strVar,
  WINGMAN_TOKENS: listVar,
  SESSION_GRACE_MS: intVar,
  LOG_LEVEL: strVar,
  P2P_ENABLED: boolVar,
  P2P_TIMEOUT_MS: intVar,
  STUN_SERVERS: listVar,
  TURN_URLS: listVar,
  TURN_SECRET: strVar,
  TURN_TTL_S: intVar,
  REDIS_URL: strVar,
  WINGMAN_NODE_URL: strVar,
  TRUST_PROXY: intVar,
  WS_MAX_MESSAGE_BYTES: intVar,
  METRICS_TOKEN: strVar,
  ...Object.fromEntries(Object.values(LIMIT_ENV).map((name) => [name, intVar])),
  WINGMAN_SERVER_STATE_DIR: strVar,
  WINGMAN_CLUSTER_SECRET: strVar,
  WINGMAN_DOMAIN_PUBLIC_SUFFIX: boolVar,
  TLS_CERT_FILE: strVar,
  TLS_KEY_FILE: strVar,
});

/** Where each option comes from, for error messages. */
const SOURCE_NAMES: Record<string, string> = {
  port: '--port / PORT',
  host: '--host / HOST',
  domain: '--domain / WINGMAN_DOMAIN',
  publicUrl: '--public-url / PUBLIC_URL',
  tokens: 'WINGMAN_TOKENS',
  sessionGraceMs: 'SESSION_GRACE_MS',
  logLevel: '--log-level / LOG_LEVEL',
  'p2p.enabled': 'P2P_ENABLED',
  'p2p.timeoutMs': 'P2P_TIMEOUT_MS',
  'p2p.stunServers': 'STUN_SERVERS',
  'p2p.turnUrls': 'TURN_URLS',
  'p2p.turnSecret': 'TURN_SECRET',
  'p2p.turnTtlS': 'TURN_TTL_S',
  redisUrl: 'REDIS_URL',
  nodeUrl: 'WINGMAN_NODE_URL',
  trustProxy: '--trust-proxy / TRUST_PROXY',
  wsMaxMessageBytes: '--ws-max-message-bytes / WS_MAX_MESSAGE_BYTES',
  metricsToken: 'METRICS_TOKEN',
  ...Object.fromEntries(Object.entries(LIMIT_ENV).map(([key, name]) => [`limits.${key}`, name])),
  stateDir: '--state-dir / WINGMAN_SERVER_STATE_DIR',
  clusterSecret: 'WINGMAN_CLUSTER_SECRET',
  domainIsPublicSuffix: '--domain-is-public-suffix / WINGMAN_DOMAIN_PUBLIC_SUFFIX',
  tlsCertFile: '--tls-cert / TLS_CERT_FILE',
  tlsKeyFile: '--tls-key / TLS_KEY_FILE',
};

export const CLI_USAGE = `Usage: wingman-server [options]

Runs a Wingman tunnel server: agents (\`wingman http <port>\`) register here and
viewers open http://<session>.<domain>/.

Options:
  --port <n>          port to listen on (PORT, default ${DEFAULT_PORT})
  --host <addr>       address to bind (HOST, default ${DEFAULT_HOST}: loopback only)
  --domain <d>        apex domain of session hosts (WINGMAN_DOMAIN, default localhost:<port>)
  --public-url <url>  scheme + domain viewers use, e.g. https://example.com (PUBLIC_URL;
                      default https:// with --tls-cert, else http://)
  --tls-cert <file>   PEM certificate chain: serve HTTPS/WSS directly, no proxy needed
                      (TLS_CERT_FILE; reloaded when the file changes)
  --tls-key <file>    PEM private key of --tls-cert (TLS_KEY_FILE)
  --domain-is-public-suffix
                      confirm the session domain is on the Public Suffix List (or accept
                      what sessions share until it is); required for a domain other than
                      localhost, *.localhost or an IP (WINGMAN_DOMAIN_PUBLIC_SUFFIX=1)
  --trust-proxy <n>   reverse proxies in front of this server whose X-Forwarded-For
                      entry names the viewer (TRUST_PROXY, default 0)
  --ws-max-message-bytes <n>
                      largest relayed WebSocket message; a larger one closes its
                      WebSocket with 1009 (WS_MAX_MESSAGE_BYTES, default ${DEFAULT_WS_MESSAGE_LIMIT_BYTES})
  --state-dir <dir>   where the session key lives, so agents get their URL back
                      after a restart (WINGMAN_SERVER_STATE_DIR, default
                      ~/.local/state/wingman-server)
  --log-level <l>     ${LOG_LEVELS.join(' | ')} (LOG_LEVEL, default info)
  --json              print {"event":"listening",...} instead of the plain URL line
  -h, --help          show this help

Environment: WINGMAN_TOKENS (comma list; default: an embedded token for local use
only), SESSION_GRACE_MS, P2P_ENABLED, P2P_TIMEOUT_MS, STUN_SERVERS, TURN_URLS,
TURN_SECRET, TURN_TTL_S, REDIS_URL, WINGMAN_NODE_URL and WINGMAN_CLUSTER_SECRET
(several nodes sharing sessions), METRICS_TOKEN (bearer token /metrics requires),
and the quotas ${Object.values(LIMIT_ENV).join(', ')}.
See docs/operations.md (§Limits).`;

export interface CliConfig {
  config: TunnelServerConfig;
  json: boolean;
  help: boolean;
}

/** Reads flags (which win) and environment variables. Throws ConfigError with one line per problem. */
export function configFromCli(argv: string[], env: Record<string, string | undefined>): CliConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        domain: { type: 'string' },
        'public-url': { type: 'string' },
        'log-level': { type: 'string' },
        'trust-proxy': { type: 'string' },
        'ws-max-message-bytes': { type: 'string' },
        'state-dir': { type: 'string' },
        'domain-is-public-suffix': { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
  const parsedEnv = envSchema.safeParse(env);
  if (!parsedEnv.success) throw new ConfigError(formatIssues(parsedEnv.error, (path) => path.join('.')));
  const e = parsedEnv.data;
  const flagPort = values.port === undefined ? undefined : intVar.safeParse(values.port);
  if (flagPort && !flagPort.success) throw new ConfigError('--port: must be a non-negative integer');
  const flagTrust = values['trust-proxy'] === undefined ? undefined : intVar.safeParse(values['trust-proxy']);
  if (flagTrust && !flagTrust.success) throw new ConfigError('--trust-proxy: must be a non-negative integer');
  const flagWsMax = values['ws-max-message-bytes'] === undefined ? undefined : intVar.safeParse(values['ws-max-message-bytes']);
  if (flagWsMax && !flagWsMax.success) throw new ConfigError('--ws-max-message-bytes: must be a non-negative integer');
  const options = dropUndefined({
    port: flagPort?.data ?? e.PORT,
    host: (values.host as string | undefined) ?? e.HOST,
    domain: (values.domain as string | undefined) ?? e.WINGMAN_DOMAIN,
    publicUrl: (values['public-url'] as string | undefined) ?? e.PUBLIC_URL,
    tokens: e.WINGMAN_TOKENS,
    sessionGraceMs: e.SESSION_GRACE_MS,
    logLevel: (values['log-level'] as string | undefined) ?? e.LOG_LEVEL,
    p2p: dropUndefined({
      enabled: e.P2P_ENABLED,
      timeoutMs: e.P2P_TIMEOUT_MS,
      stunServers: e.STUN_SERVERS,
      turnUrls: e.TURN_URLS,
      turnSecret: e.TURN_SECRET,
      turnTtlS: e.TURN_TTL_S,
    }),
    redisUrl: e.REDIS_URL,
    nodeUrl: e.WINGMAN_NODE_URL,
    trustProxy: flagTrust?.data ?? e.TRUST_PROXY,
    wsMaxMessageBytes: flagWsMax?.data ?? e.WS_MAX_MESSAGE_BYTES,
    metricsToken: e.METRICS_TOKEN,
    limits: dropUndefined(Object.fromEntries(Object.entries(LIMIT_ENV).map(([key, name]) => [key, (e as Record<string, unknown>)[name]]))),
    stateDir: (values['state-dir'] as string | undefined) ?? e.WINGMAN_SERVER_STATE_DIR,
    clusterSecret: e.WINGMAN_CLUSTER_SECRET,
    domainIsPublicSuffix: values['domain-is-public-suffix'] === true ? true : e.WINGMAN_DOMAIN_PUBLIC_SUFFIX,
    tlsCertFile: (values['tls-cert'] as string | undefined) ?? e.TLS_CERT_FILE,
    tlsKeyFile: (values['tls-key'] as string | undefined) ?? e.TLS_KEY_FILE,
  });
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    // List items (tokens.0, p2p.stunServers.1) are reported under their variable.
    const name = (path: Array<string | number>) => SOURCE_NAMES[path.join('.')] ?? SOURCE_NAMES[path.filter((p) => typeof p === 'string').join('.')] ?? path.join('.');
    throw new ConfigError(formatIssues(result.error, name));
  }
  return { config: result.data, json: values.json === true, help: values.help === true };
}

function dropUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatIssues(error: z.ZodError, name: (path: Array<string | number>) => string): string {
  return error.issues.map((i) => `${name(i.path) || 'options'}: ${i.message}`).join('\n');
}
