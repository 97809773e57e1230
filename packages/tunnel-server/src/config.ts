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
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES, MAX_SIGN_IN_ENDS_IN_MS, MAX_WS_MESSAGE_BYTES } from '@wingman/protocol';
import { z } from 'zod';
import { OPTION_ROWS, CLI_ONLY_FLAGS, sourceName, usageText, type OptionKind, type OptionRow } from './cli-options';
import { DEFAULT_HOST, DEFAULT_PORT, LOG_LEVELS, type LogLevel } from './config-defaults';
import { limitsSchema, type LimitOptions } from './limits';

export { DEFAULT_HOST, DEFAULT_PORT, type LogLevel } from './config-defaults';

/**
 * The embedded agent token, for local use only: anyone who reads this source
 * knows it. A server on a non-loopback host refuses to start with it.
 */
export const DEFAULT_AGENT_TOKEN = 'wingman-local-dev-token';
/** How long a session outlives its agent's disconnect, so a reconnecting agent gets the same URL back. */
export const DEFAULT_SESSION_GRACE_MS = 30_000;
/** How long a viewer sign-in lasts by default, seconds: a working day; then the viewer signs in again (usually without typing anything at the issuer). */
export const DEFAULT_SIGN_IN_TTL_S = 12 * 3600;
/** How long a viewer tries ICE before it stays on the relay. */
const DEFAULT_VIEWER_ICE_TIMEOUT_MS = 3_000;
/**
 * Lifetime of TURN credentials (TURN REST API), seconds. A TURN server checks
 * them when an allocation is made (coturn: not on its refreshes), and every
 * viewer gets its own with each P2P attempt (the agent fresh ones before an
 * offer once they are half this old): 5 min covers any ICE gathering while
 * a leaked credential stops working soon.
 */
const DEFAULT_TURN_TTL_S = 300;
/** Interval of protocol PINGs to each agent; a missed PONG (with nothing moving on the connection meanwhile) closes the agent. */
const DEFAULT_HEARTBEAT_INTERVAL_MS = 15_000;
/** How long an agent has to answer a PING. */
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

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
  /** Lifetime of minted TURN credentials, seconds. Default 300. */
  turnTtlS?: number;
  /** Viewers' offers carry a receive-only video section (a larger UDP receive buffer in browsers; no media flows). Default true. */
  videoSection?: boolean;
  /** Viewers measure the peer path's loss as their channel opens (docs/PROTOCOL.md §Loss probe). Default true. */
  lossProbe?: boolean;
  /** The Service Worker races a large GET on both paths (P2P_BULK_RACE). Default true. */
  bulkRace?: boolean;
  /** The Service Worker's path chooser sends requests to the relay where it measured faster (P2P_PATH_CHOICE). Default true. */
  pathChoice?: boolean;
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
  /**
   * With `tlsCertFile`: serve HTTP/2 (ALPN `h2`) next to HTTP/1.1 on the same
   * port, so a relayed page is not held to six connections. WebSockets stay
   * HTTP/1.1. Default true; ignored without TLS and on a cluster node (`redisUrl`).
   */
  http2?: boolean;
  /**
   * The OpenID Connect issuer viewers sign in with on sessions shared with
   * `--allow-email` (access/sign-in-*.ts). Unset: such sessions are refused
   * (ERR_SIGN_IN_UNAVAILABLE). The redirect URI to register at the issuer is
   * `<publicUrl>/__wingman/sign-in/callback`.
   */
  oidc?: OidcOptions;
  /**
   * How long one viewer sign-in lasts, seconds (the apex's identity cookie and
   * each session's sign-in cookie); when it ends, the viewer's sockets and P2P
   * channels on that session end too, until it signs in again. Default 43200 (12 hours).
   */
  signInTtlS?: number;
}

export interface OidcOptions {
  /** Issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`). https, or http on a loopback host. */
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** The server's default state directory: $XDG_STATE_HOME/wingman-server, else ~/.local/state/wingman-server. */
function defaultServerStateDir(env: Record<string, string | undefined> = process.env): string {
  return env.XDG_STATE_HOME ? join(env.XDG_STATE_HOME, 'wingman-server') : join(homedir(), '.local', 'state', 'wingman-server');
}

/** Most trusted proxy hops `trustProxy` accepts: more than any real chain, few enough to catch a typo. */
const MAX_TRUST_PROXY = 10;

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
    videoSection: z.boolean().default(true),
    lossProbe: z.boolean().default(true),
    bulkRace: z.boolean().default(true),
    pathChoice: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.turnUrls.length === 0 || p.turnSecret !== undefined, { message: 'TURN URLs need a TURN secret', path: ['turnSecret'] });

/** An issuer: https, or http on a loopback host only (a local test provider; tokens would cross the network in clear otherwise). */
const issuerUrl = z
  .string()
  .url()
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname.replace(/^\[|\]$/g, '')));
  }, 'must be an https:// URL (http:// only on a loopback host)')
  .refine((u) => !new URL(u).search && !new URL(u).hash, 'must have no query or fragment');

const oidcSchema = z
  .object({
    issuer: issuerUrl,
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(1024),
  })
  .strict();

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
    http2: z.boolean().default(true),
    oidc: oidcSchema.optional(),
    signInTtlS: z
      .number()
      .int()
      .min(10)
      .max(MAX_SIGN_IN_ENDS_IN_MS / 1000)
      .default(DEFAULT_SIGN_IN_TTL_S),
  })
  .strict()
  // The embedded token is public: on an address others can reach, anyone could register agents.
  .refine(
    (o) => isLoopbackHost(o.host) || !o.tokens.includes(DEFAULT_AGENT_TOKEN),
    (o) => ({
      path: ['tokens'],
      message: `the embedded local token cannot be used on the non-loopback host ${o.host}: anyone could register agents. Set WINGMAN_TOKENS (e.g. openssl rand -hex 32)`,
    }),
  )
  .refine((o) => (o.tlsCertFile === undefined) === (o.tlsKeyFile === undefined), {
    message: 'a TLS certificate and its key go together: give both or neither',
    path: ['tlsCertFile'],
  })
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
function domainIsolationProblem(domain: string | undefined, confirmed: boolean): string | undefined {
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

/** True when the server speaks HTTP/2 next to HTTP/1.1: its own TLS, `http2`, and not a cluster node (whose forwarding between nodes is HTTP/1.1). */
export function usesHttp2(config: TunnelServerConfig): boolean {
  return usesTls(config) && config.http2 && config.redisUrl === undefined;
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
const intVar = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .trim()
    .regex(/^\d{1,10}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional(),
);
const listVar = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
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

const KIND_PARSERS: Record<OptionKind, z.ZodTypeAny> = { int: intVar, string: strVar, list: listVar, bool: boolVar };

/** Every environment variable the server reads (one per row of the options table; .env.example documents each). */
const envSchema = z.object(Object.fromEntries(OPTION_ROWS.filter((r) => r.env).map((r) => [r.env!, KIND_PARSERS[r.kind]])));

/** Where each option comes from, for error messages (`--port / PORT`). */
const SOURCE_NAMES: Record<string, string> = Object.fromEntries(OPTION_ROWS.map((r) => [r.key, sourceName(r)]));

export const CLI_USAGE = usageText();

interface CliConfig {
  config: TunnelServerConfig;
  json: boolean;
  help: boolean;
}

/** One row's value: its flag's (which wins) else its variable's, parsed by the row's kind. */
function rowValue(row: OptionRow, flags: Record<string, string | boolean | undefined>, env: Record<string, unknown>): unknown {
  const flag = row.flag === undefined ? undefined : flags[row.flag];
  if (row.kind === 'bool') return flag === true ? true : row.env && env[row.env];
  if (flag === undefined) return row.env && env[row.env];
  if (row.kind !== 'int') return flag;
  const parsed = intVar.safeParse(flag);
  if (!parsed.success) throw new ConfigError(`--${row.flag}: must be a non-negative integer`);
  return parsed.data;
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
        ...Object.fromEntries(
          OPTION_ROWS.filter((r) => r.flag).map((r) => [r.flag!, { type: r.kind === 'bool' ? ('boolean' as const) : ('string' as const) }]),
        ),
        ...Object.fromEntries(CLI_ONLY_FLAGS.map((f) => [f.flag, { type: 'boolean' as const, ...('short' in f ? { short: f.short } : {}) }])),
      },
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message} (see --help)`);
  }
  const parsedEnv = envSchema.safeParse(env);
  if (!parsedEnv.success) throw new ConfigError(formatIssues(parsedEnv.error, (path) => path.join('.')));
  const options: Record<string, unknown> = {};
  for (const row of OPTION_ROWS) {
    const value = rowValue(row, values, parsedEnv.data);
    if (value === undefined) continue;
    const [head, leaf] = row.key.split('.') as [string, string | undefined];
    if (leaf === undefined) options[head] = value;
    else options[head] = { ...(options[head] as object | undefined), [leaf]: value };
  }
  const result = optionsSchema.safeParse(options);
  if (!result.success) {
    // List items (tokens.0, p2p.stunServers.1) are reported under their variable.
    const name = (path: Array<string | number>) =>
      SOURCE_NAMES[path.join('.')] ?? SOURCE_NAMES[path.filter((p) => typeof p === 'string').join('.')] ?? path.join('.');
    throw new ConfigError(formatIssues(result.error, name));
  }
  return { config: result.data, json: values.json === true, help: values.help === true };
}

function formatIssues(error: z.ZodError, name: (path: Array<string | number>) => string): string {
  return error.issues.map((i) => `${name(i.path) || 'options'}: ${i.message}`).join('\n');
}
