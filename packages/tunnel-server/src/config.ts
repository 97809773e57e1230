/**
 * Tunnel server configuration: the options of createTunnelServer, and the same options read from CLI flags and
 * environment variables (the bin). One zod schema validates both; its fields' comments are the options' docs.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_WS_MESSAGE_LIMIT_BYTES, MAX_SIGN_IN_ENDS_IN_MS, MAX_WS_MESSAGE_BYTES } from '@wingman/protocol';
import { z } from 'zod';
import { OPTION_ROWS, CLI_ONLY_FLAGS, DEFAULT_HOST, DEFAULT_PORT, LOG_LEVELS, sourceName, usageText, type OptionKind, type OptionRow } from './cli-options';
import { limitsSchema } from './limits';

/** The embedded agent token, for local use only: anyone who reads this source knows it; a non-loopback host refuses it. */
export const DEFAULT_AGENT_TOKEN = 'wingman-local-dev-token';
/** How long a session outlives its agent's disconnect, so a reconnecting agent gets the same URL back. */
export const DEFAULT_SESSION_GRACE_MS = 30_000;
/** A viewer sign-in lasts a working day by default, seconds; then the viewer signs in again (usually without typing anything). */
const DEFAULT_SIGN_IN_TTL_S = 12 * 3600;
const MAX_SIGN_IN_TTL_S = MAX_SIGN_IN_ENDS_IN_MS / 1000;
/**
 * Lifetime of TURN credentials (TURN REST API), seconds: checked when an allocation is made (coturn: not on
 * refreshes) and minted per P2P attempt, so 5 min covers any ICE gathering while a leaked one soon stops working.
 */
const DEFAULT_TURN_TTL_S = 300;

const defaultServerStateDir = () => join(process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'wingman-server');

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
    /** Offer P2P to agents that support it. */
    enabled: z.boolean().default(true),
    /** How long a viewer tries ICE before it stays on the relay, ms. */
    timeoutMs: ms(600_000).default(3_000),
    /** STUN URLs handed to both peers (`stun:host:port`). Default none (host candidates only). */
    stunServers: z.array(z.string().regex(ICE_URL, 'must be a stun: URL')).max(16).default([]),
    /** TURN URLs (`turn:host:3478?transport=udp`); need `turnSecret` (coturn `static-auth-secret`) to mint credentials. */
    turnUrls: z.array(z.string().regex(ICE_URL, 'must be a turn: URL')).max(16).default([]),
    turnSecret: z.string().min(1).optional(),
    turnTtlS: z.number().int().min(60).max(86_400).default(DEFAULT_TURN_TTL_S),
    /** Viewers' offers carry a receive-only video section (a larger UDP receive buffer in browsers; no media flows). */
    videoSection: z.boolean().default(true),
    /** Viewers measure the peer path's loss as their channel opens (docs/PROTOCOL.md §Loss probe). */
    lossProbe: z.boolean().default(true),
    /** The Service Worker races a large GET on both paths (P2P_BULK_RACE). */
    bulkRace: z.boolean().default(true),
    /** The Service Worker's path chooser sends bulk and uploads to the relay where it measured faster (P2P_PATH_CHOICE). */
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
    /** Its discovery document is `<issuer>/.well-known/openid-configuration`. */
    issuer: issuerUrl,
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(1024),
    /**
     * OIDC Core's `prompt` on every trip to the provider; absent, none is sent. `login` makes the provider authenticate
     * whoever is at the browser even when its own session lives on; Google refuses it (docs/operations.md, Sign-in gate).
     */
    prompt: z.enum(['login', 'consent', 'select_account']).optional(),
  })
  .strict();

/** The options of createTunnelServer; the bin's flags and variables (cli-options.ts) fill the same fields. */
export const optionsSchema = z
  .object({
    /** TCP port; 0 picks a free one (tests). */
    port: z.number().int().min(0).max(65_535).default(DEFAULT_PORT),
    /** Address to bind; loopback only by default. */
    host: z.string().min(1).max(255).default(DEFAULT_HOST),
    /** Apex domain of session hosts (`<id>.<domain>`), optionally with a port. Default: the host of `publicUrl`, else `localhost:<port>`. */
    domain: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.string().regex(DOMAIN, 'must be a domain name, optionally with :port'))
      .optional(),
    /** Scheme and host that viewers use (`https://example.com` behind a TLS proxy). Default `http://<domain>`, `https://` with `tlsCertFile`. */
    publicUrl: baseUrl.optional(),
    /** Agent tokens accepted as `Authorization: Bearer <token>`. Default: the embedded local token. */
    tokens: z.array(z.string().regex(TOKEN, 'tokens are 8-512 visible ASCII characters')).min(1).max(1000).default([DEFAULT_AGENT_TOKEN]),
    /** How long a session survives its agent's disconnect, ms. */
    sessionGraceMs: ms(86_400_000).default(DEFAULT_SESSION_GRACE_MS),
    /** Interval of protocol PINGs to agents, ms; a missed PONG (with nothing moving meanwhile) closes the agent. */
    heartbeatIntervalMs: z.number().int().min(10).max(3_600_000).default(15_000),
    /** Time an agent has to answer a PING, ms. */
    heartbeatTimeoutMs: z.number().int().min(10).max(600_000).default(10_000),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** P2P settings sent to agents in `registered.p2p`. */
    p2p: p2pSchema.default({}),
    /** Redis of a cluster's shared session directory (`redis://host:6379`). Unset: a single node, sessions in memory. */
    redisUrl: z
      .string()
      .url()
      .refine((u) => /^rediss?:$/.test(new URL(u).protocol), 'must be a redis:// or rediss:// URL')
      .optional(),
    /** This node's base URL as the other nodes reach it (cluster only). Default `http://<host>:<port>`. */
    nodeUrl: baseUrl.optional(),
    /** Reverse proxies in front (TLS terminator, load balancer) whose X-Forwarded-For entry names the viewer. 0: the socket's peer. */
    trustProxy: z.number().int().min(0).max(MAX_TRUST_PROXY).default(0),
    /** Largest WebSocket message relayed either way, bytes; a larger one closes that WebSocket with 1009. */
    wsMaxMessageBytes: z.number().int().min(1).max(MAX_WS_MESSAGE_BYTES).default(DEFAULT_WS_MESSAGE_LIMIT_BYTES),
    /** Quotas per viewer, source address and token (limits.ts). */
    limits: limitsSchema.default({}),
    /** Bearer token that `/metrics` (and the landing page's session count) require. Unset: both public. */
    metricsToken: z.string().regex(TOKEN, 'tokens are 8-512 visible ASCII characters').optional(),
    /** Where the session key lives (sessions/session-key.ts). Default `$XDG_STATE_HOME/wingman-server`, else `~/.local/state/wingman-server`. */
    stateDir: z.string().min(1).max(4096).default(defaultServerStateDir),
    /** A secret every node of a cluster shares: the shared keys derive from it instead of being agreed through Redis. */
    clusterSecret: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)').max(1024).optional(),
    /** The operator confirms the session domain is on the Public Suffix List, or accepts what sessions share until it is (docs/deploy.md). */
    domainIsPublicSuffix: z.boolean().default(false),
    /** PEM certificate chain: the server speaks HTTPS/WSS itself; re-read when it changes on disk. Needs `tlsKeyFile`. */
    tlsCertFile: z.string().min(1).max(4096).optional(),
    tlsKeyFile: z.string().min(1).max(4096).optional(),
    /** With TLS: HTTP/2 (ALPN `h2`) next to HTTP/1.1, so a page is not held to six connections. Not on a cluster node. */
    http2: z.boolean().default(true),
    /** The OpenID Connect issuer for `--allow-email` sessions (redirect URI `<publicUrl>/__wingman/sign-in/callback`). Unset: refused. */
    oidc: oidcSchema.optional(),
    /** How long one viewer sign-in lasts, seconds; when it ends, the viewer's sockets and P2P channels on that session end too. */
    signInTtlS: z.number().int().min(10).max(MAX_SIGN_IN_TTL_S).default(DEFAULT_SIGN_IN_TTL_S),
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

/** Why a session domain must not be used as configured (undefined: fine); the message says why. */
function domainIsolationProblem(domain: string | undefined, confirmed: boolean): string | undefined {
  if (domain === undefined || confirmed) return undefined;
  const hostname = domain.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  // Their own site in every browser: no Public Suffix List entry needed.
  if (hostname === 'localhost' || hostname.endsWith('.localhost') || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0) return undefined;
  return (
    `sessions would live at <id>.${hostname}, which browsers treat as one site unless ${hostname} is on the Public Suffix List: ` +
    `one session's pages could send another's SameSite cookies and set cookies every session receives. ` +
    `Once ${hostname} is on the list (or to accept that until then), pass --domain-is-public-suffix / WINGMAN_DOMAIN_PUBLIC_SUFFIX=1. ` +
    `See docs/deploy.md ("Session isolation and the Public Suffix List").`
  );
}

export type TunnelServerOptions = z.input<typeof optionsSchema>;
export type OidcOptions = z.input<typeof oidcSchema>;
export type TunnelServerConfig = z.output<typeof optionsSchema>;

/** Validates options and fills defaults. Throws ConfigError naming each bad field. */
export function resolveConfig(options: TunnelServerOptions = {}): TunnelServerConfig {
  const result = optionsSchema.safeParse(options);
  if (!result.success) throw new ConfigError(formatIssues(result.error, (path) => path.join('.')));
  return result.data;
}

/** HTTP/2 next to HTTP/1.1: with its own TLS, and not on a cluster node (whose forwarding between nodes is HTTP/1.1). */
export function usesHttp2(config: TunnelServerConfig): boolean {
  return config.tlsCertFile !== undefined && config.http2 && config.redisUrl === undefined;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// ---- CLI flags and environment ---------------------------------------------

const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const INT = /^\d{1,10}$/;
const BOOL_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const intVar = z.preprocess(unsetIfEmpty, z.string().trim().regex(INT, 'must be a non-negative integer').transform(Number).optional());
const listVar = z.preprocess(unsetIfEmpty, z.string().transform(splitList).optional());
const boolVar = z.preprocess((v) => (typeof v === 'string' ? unsetIfEmpty(v.trim().toLowerCase()) : v), z.enum(BOOL_WORDS).transform(isYes).optional());
const strVar = z.preprocess(unsetIfEmpty, z.string().optional());

/** A comma-separated list, items trimmed, empty ones dropped. */
function splitList(s: string): string[] {
  return s.split(',').flatMap((x) => (x.trim() ? [x.trim()] : []));
}

function isYes(word: (typeof BOOL_WORDS)[number]): boolean {
  return word === 'true' || word === '1' || word === 'yes';
}

const KIND_PARSERS: Record<OptionKind, z.ZodTypeAny> = { int: intVar, string: strVar, list: listVar, bool: boolVar };

/** Every environment variable the server reads (one per row of the options table; .env.example documents each). */
const envSchema = z.object(Object.fromEntries(OPTION_ROWS.filter((r) => r.env).map((r) => [r.env!, KIND_PARSERS[r.kind]])));

/** Where each option comes from, for error messages (`--port / PORT`). */
const SOURCE_NAMES: Record<string, string> = Object.fromEntries(OPTION_ROWS.map((r) => [r.key, sourceName(r)]));

export const CLI_USAGE = usageText();

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
export function configFromCli(argv: string[], env: Record<string, string | undefined>): { config: TunnelServerConfig; json: boolean; help: boolean } {
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
