/**
 * The one local app a forwarder serves, and the Host policy towards it. An
 * https target is verified against Node's store and `--target-ca`;
 * `--target-insecure` only on a loopback target, where nothing but this
 * machine can present a certificate.
 */
import { rootCertificates } from 'node:tls';
import { z } from 'zod';

/**
 * Host header sent to the local app: 'rewrite' (the target's host:port, what
 * dev servers such as Vite accept), 'preserve' (the viewer's Host, i.e. the
 * session's public host) or an explicit value.
 */
export type HostHeaderMode = 'rewrite' | 'preserve' | (string & {});

export const targetSchema = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535),
  /** The app's scheme: `https` for a TLS target (`wingman http https://localhost:8443`). Default `http`. */
  scheme: z.enum(['http', 'https']).optional(),
  /** https: PEM certificates trusted besides Node's store for this target (`--target-ca`): a few KiB a certificate. */
  ca: z.string().max(1_048_576).optional(),
  /** https: accept the app's certificate unverified (`--target-insecure`; loopback targets only). */
  insecure: z.boolean().optional(),
});

export type Target = z.infer<typeof targetSchema>;

/** "localhost:3000", "[::1]:3000". */
export function formatHostPort(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/** "http://localhost:3000", "https://localhost:8443": the app's origin as the agent reaches it. */
export function targetOrigin(target: Target): string {
  return `${target.scheme ?? 'http'}://${formatHostPort(target)}`;
}

/** TLS options of a connection to the target (Node's tls.connect, undici's connector, ws); undefined for http. */
export interface TargetTlsOptions {
  ca?: string[];
  rejectUnauthorized: boolean;
}

export function targetTlsOptions(target: Target): TargetTlsOptions | undefined {
  if (target.scheme !== 'https') return undefined;
  if (target.insecure) return { rejectUnauthorized: false };
  // `ca` replaces Node's store: the given CA is added to it, not put in its place.
  return target.ca === undefined ? { rejectUnauthorized: true } : { ca: [...rootCertificates, target.ca], rejectUnauthorized: true };
}
