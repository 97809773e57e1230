/**
 * The one local app a forwarder serves, and the Host policy towards it.
 *
 * An `https` target (`wingman http https://localhost:8443`: Vite with
 * basic-ssl, `next dev --experimental-https`, mkcert certificates) is reached
 * over TLS, its certificate verified like any other: against Node's trust
 * store (Mozilla's roots, plus NODE_EXTRA_CA_CERTS) and the target's own CA
 * (`--target-ca`, e.g. mkcert's `rootCA.pem`). `--target-insecure` accepts
 * any certificate, and only on a loopback target (options.ts checks it): the
 * bytes never leave the machine there, so nothing on the path can present a
 * certificate but a process on this machine.
 */
import { rootCertificates } from 'node:tls';

/**
 * Host header sent to the local app: 'rewrite' (the target's host:port, what
 * dev servers such as Vite accept), 'preserve' (the viewer's Host, i.e. the
 * session's public host) or an explicit value.
 */
export type HostHeaderMode = 'rewrite' | 'preserve' | (string & {});

export interface Target {
  host: string;
  port: number;
  /** The app's scheme: `https` for a TLS target (`wingman http https://localhost:8443`). Default `http`. */
  scheme?: 'http' | 'https';
  /** https: PEM certificates trusted besides Node's store for this target (`--target-ca`). */
  ca?: string;
  /** https: accept the app's certificate unverified (`--target-insecure`; loopback targets only). */
  insecure?: boolean;
}

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
