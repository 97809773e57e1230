/**
 * Where viewers reach the server: the routing domain and the public URL from which session URLs are built. Resolved
 * after listen(), because the default domain `localhost:<port>` needs the real port (port 0 in tests).
 */
import { usesTls, type TunnelServerConfig } from '../config';

export interface PublicAddress {
  /** Apex domain of session hosts, maybe with a port: `localhost:8080`, `example.com`. */
  domain: string;
  /** Scheme and host viewers use, no trailing slash: `http://localhost:8080`, `https://example.com`. */
  publicUrl: string;
  /** `http` or `https`: what viewers speak (sent to agents as X-Forwarded-Proto). */
  scheme: 'http' | 'https';
  sessionUrl(sessionId: string): string;
}

export function resolvePublicAddress(config: TunnelServerConfig, port: number): PublicAddress {
  const given = config.publicUrl ? new URL(config.publicUrl) : undefined;
  // Without --domain, a --public-url names the domain (https://example.com → example.com).
  const domain = config.domain ?? given?.host ?? `localhost:${port}`;
  // Without --public-url, the scheme is what this server speaks itself.
  const url = given ?? new URL(`${usesTls(config) ? 'https' : 'http'}://${domain}`);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    domain,
    publicUrl: `${url.protocol}//${url.host}`,
    scheme,
    sessionUrl: (id) => `${url.protocol}//${id}.${url.host}/`,
  };
}
