/**
 * `wingman start`'s config file (docs/cli.md "Several tunnels"): its shape is
 * checked here; each tunnel's values go through resolveHttpConfig, so a
 * rejection reads as for `wingman http`, prefixed by file, tunnel and field.
 */
import { dirname, resolve } from 'node:path';
import leven from 'leven';
import { z } from 'zod';
import { headerEditsInput } from '../../forward/header-rules';
import type { HttpCommandFlags } from '../http-options';
import { resolveHttpConfig, UsageError, type HttpConfig } from '../options';
import { readUserFile } from '../usage-error';

/** In the current directory, without --config. */
const DEFAULT_CONFIG_FILE = 'wingman.json';
/** Each is an agent connection and a P2P host process: past a handful it is a mistake, not a setup. */
export const MAX_TUNNELS = 16;
/** A hand-written file of a few tunnels is a few KiB. */
const MAX_CONFIG_FILE_BYTES = 256 * 1024;
/** Shown in the banner, the JSON events and the inspector. */
const TUNNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** As --allow-ip, --deny-ip, --allow-email. */
const policySchema = z
  .object({
    allowIp: z.array(z.string()).optional(),
    denyIp: z.array(z.string()).optional(),
    allowEmail: z.array(z.string()).optional(),
    /** forward/header-rules.ts. */
    requestHeaders: headerEditsInput('request').optional(),
    responseHeaders: headerEditsInput('response').optional(),
  })
  .strict();

/** A number of the file, as the flag's text it stands for. */
const flagNumber = z.number().int().transform(String);

const tunnelSchema = z
  .object({
    target: z.union([z.string(), z.number().int()]),
    hostHeader: z.string().optional(),
    /** Relative to the config file. */
    targetCa: z.string().optional(),
    targetInsecure: z.boolean().optional(),
    /** `{ "/api": "8000" }`, prefix to target. */
    routes: z.record(z.string(), z.union([z.string(), z.number().int()])).optional(),
    p2p: z.boolean().optional(),
    timeout: flagNumber.optional(),
    password: z.string().optional(),
    passwordFile: z.string().optional(),
    expires: z.string().optional(),
    approve: z.boolean().optional(),
    public: z.boolean().optional(),
    name: z.string().optional(),
    wsMaxMessageBytes: flagNumber.optional(),
    policy: policySchema.optional(),
  })
  .strict();

const fileSchema = z
  .object({
    server: z.string().optional(),
    token: z.string().optional(),
    /** '' : none. */
    proxy: z.string().optional(),
    /** Port, or false: off. */
    inspect: z
      .union([z.number().int(), z.literal(false)])
      .transform(String)
      .optional(),
    inspectBodyLimit: flagNumber.optional(),
    inspectHistory: flagNumber.optional(),
    tunnels: z.record(z.string(), tunnelSchema),
  })
  .strict();

type TunnelFields = z.infer<typeof tunnelSchema>;

export interface NamedTunnelConfig {
  name: string;
  config: HttpConfig;
}

export interface StartFlags {
  config?: string;
  json?: boolean;
  newSession?: boolean;
}

function readConfigFile(flags: StartFlags, cwd: string): { path: string; text: string } {
  const path = resolve(cwd, flags.config ?? DEFAULT_CONFIG_FILE);
  const text = readUserFile(path, '', flags.config === undefined ? `no ${DEFAULT_CONFIG_FILE} in ${cwd}; give --config <file>` : undefined);
  if (text.length > MAX_CONFIG_FILE_BYTES) throw new UsageError(`${path}: larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
  return { path, text };
}

/** resolveHttpConfig's messages name the flag; the file's field for each, longest flag first. */
const FLAG_FIELDS: Array<[RegExp, string | ((tunnel: string) => string)]> = [
  [/^invalid (target|port)\b/, (t) => `tunnels.${t}.target`],
  // A route's own target or TLS problem is still the route's.
  [/^invalid --route\b/, (t) => `tunnels.${t}.routes`],
  // Before --target-ca: "not both" is about the flag that turns verification off.
  [/--target-insecure\b/, (t) => `tunnels.${t}.targetInsecure`],
  [/--target-ca\b/, (t) => `tunnels.${t}.targetCa`],
  [/--server\b/, 'server'],
  [/--proxy\b/, 'proxy'],
  [/\btoken\b/, 'token'],
  [/--host-header\b/, (t) => `tunnels.${t}.hostHeader`],
  [/--timeout\b/, (t) => `tunnels.${t}.timeout`],
  [/--password-file\b/, (t) => `tunnels.${t}.passwordFile`],
  [/--password\b/, (t) => `tunnels.${t}.password`],
  [/--ws-max-message-bytes\b/, (t) => `tunnels.${t}.wsMaxMessageBytes`],
  // Before --expires: "do not go together" is about the name.
  [/--name\b/, (t) => `tunnels.${t}.name`],
  [/--expires\b/, (t) => `tunnels.${t}.expires`],
  [/--allow-ip\b/, (t) => `tunnels.${t}.policy.allowIp`],
  [/--deny-ip\b/, (t) => `tunnels.${t}.policy.denyIp`],
  [/--allow-email\b/, (t) => `tunnels.${t}.policy.allowEmail`],
  [/--inspect-body-limit\b/, 'inspectBodyLimit'],
  [/--inspect-history\b/, 'inspectHistory'],
  [/--inspect\b/, 'inspect'],
];

function fieldOf(message: string, tunnel: string): string {
  const hit = FLAG_FIELDS.find(([re]) => re.test(message));
  if (!hit) return `tunnels.${tunnel}`;
  return typeof hit[1] === 'string' ? hit[1] : hit[1](tunnel);
}

/** The tunnel's fields under their flags' names: the shared ones, its own, paths made relative to the file. */
function tunnelFlags(file: z.infer<typeof fileSchema>, t: TunnelFields, flags: StartFlags, dir: string): HttpCommandFlags {
  const { tunnels: _tunnels, ...shared } = file;
  const { target: _target, routes, policy, targetCa, passwordFile, ...own } = t;
  return {
    ...shared,
    ...own,
    targetCa: targetCa === undefined ? undefined : resolve(dir, targetCa),
    passwordFile: passwordFile === undefined ? undefined : resolve(dir, passwordFile),
    route: routes === undefined ? undefined : Object.entries(routes).map(([prefix, target]) => `${prefix}=${target}`),
    allowIp: policy?.allowIp,
    denyIp: policy?.denyIp,
    allowEmail: policy?.allowEmail,
    json: flags.json,
    newSession: flags.newSession,
    // A QR code per URL would fill the terminal.
    qr: false,
  };
}

/** Edits from an unknown key to a known one that still read as a typo (`targt` → `target`: 1). */
const MAX_TYPO_DISTANCE = 2;

function knownKeys(issuePath: Array<string | number>): string[] {
  if (issuePath.length === 0) return Object.keys(fileSchema.shape);
  // A tunnel may itself be named "policy".
  if (issuePath.length === 4) return ['remove', 'set', 'add'];
  return Object.keys(issuePath.length === 3 ? policySchema.shape : tunnelSchema.shape);
}

/** Unknown keys with the nearest known one, a missing field, the expected type. */
function describeIssue(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path);
    const named = issue.keys.map((key) => {
      const near = known.map((k) => ({ k, d: leven(key, k) })).sort((a, b) => a.d - b.d)[0];
      return near && near.d <= MAX_TYPO_DISTANCE ? `"${key}" (did you mean "${near.k}"?)` : `"${key}"`;
    });
    return `unknown key${named.length > 1 ? 's' : ''} ${named.join(', ')}; known: ${known.join(', ')}`;
  }
  const missing = (i: z.ZodIssue) => i.code === 'invalid_type' && i.received === 'undefined';
  if (missing(issue) || (issue.code === 'invalid_union' && issue.unionErrors.every((e) => e.issues.every(missing)))) return 'missing: this field is required';
  if (issue.code === 'invalid_union') {
    const expected = issue.unionErrors.flatMap((e) => e.issues.map((i) => (i.code === 'invalid_type' ? i.expected : undefined))).filter(Boolean);
    if (expected.length > 0) return `expected ${expected.join(' or ')}`;
  }
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${issue.received}`;
  return issue.message;
}

/** Every rejection is a UsageError naming the file (and the tunnel and field). */
export function loadStartConfig(flags: StartFlags, cwd: string, env: NodeJS.ProcessEnv): { path: string; tunnels: NamedTunnelConfig[] } {
  const { path, text } = readConfigFile(flags, cwd);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    // A misspelt key also leaves the key it meant missing: name the unknown one.
    const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
    const where = issue.path.join('.');
    throw new UsageError(`${path}: ${where ? `${where}: ` : ''}${describeIssue(issue)}`);
  }
  const names = Object.keys(parsed.data.tunnels);
  if (names.length === 0) throw new UsageError(`${path}: tunnels: name at least one tunnel, e.g. "tunnels": { "web": { "target": "3000" } }`);
  if (names.length > MAX_TUNNELS) throw new UsageError(`${path}: tunnels: ${names.length} tunnels, at most ${MAX_TUNNELS}`);
  const tunnels = names.map((name) => {
    if (!TUNNEL_NAME.test(name))
      throw new UsageError(`${path}: tunnels.${name}: a tunnel name is 1-32 letters, digits, - or _, starting with a letter or digit`);
    const t = parsed.data.tunnels[name]!;
    try {
      const config = resolveHttpConfig(String(t.target), tunnelFlags(parsed.data, t, flags, dirname(path)), env);
      const headerRules = { request: t.policy?.requestHeaders, response: t.policy?.responseHeaders };
      return { name, config: { ...config, headerRules: headerRules.request || headerRules.response ? headerRules : undefined } };
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${path}: ${fieldOf(err.message, name)}: ${err.message}`);
      throw err;
    }
  });
  return { path, tunnels };
}
