/**
 * Where viewers reach the server: the routing domain and the public URL from which session URLs are built. Resolved
 * after listen(), because the default domain `localhost:<port>` needs the real port (port 0 in tests).
 *
 * And the configurations that start fine but hand out links that cannot work, or work without P2P; found once at
 * start, the bin prints them. Codes (docs/operations.md §Start warnings): WARN_DOMAIN_IS_IP (no `<id>.<ip>` names),
 * WARN_INSECURE_PUBLIC_URL (plain http off localhost: no Service Worker, so no P2P nor cookie bridge),
 * WARN_LOCALHOST_LINKS (bound beyond loopback, but links say `localhost`).
 */
import { isLoopbackHost, type TunnelServerConfig } from '../config';
import { hostnameOf } from '../http/host-route';

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
  const url = given ?? new URL(`${config.tlsCertFile !== undefined ? 'https' : 'http'}://${domain}`);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  return {
    domain,
    publicUrl: `${url.protocol}//${url.host}`,
    scheme,
    sessionUrl: (id) => `${url.protocol}//${id}.${url.host}/`,
  };
}

export interface AddressWarning {
  code: 'WARN_DOMAIN_IS_IP' | 'WARN_INSECURE_PUBLIC_URL' | 'WARN_LOCALHOST_LINKS';
  /** Several lines: what is wrong, what it breaks, how to fix it. */
  message: string;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** `localhost` and `*.localhost` (RFC 6761 §6.3): loopback, and a secure context even over http. */
function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function isIpLiteral(hostname: string): boolean {
  return IPV4.test(hostname) || hostname.startsWith('[');
}

export function publicAddressWarnings(config: TunnelServerConfig, address: PublicAddress): AddressWarning[] {
  const warnings: AddressWarning[] = [];
  const domainName = hostnameOf(address.domain);
  const publicName = new URL(address.publicUrl).hostname;
  const example = address.sessionUrl('<id>');
  if (isIpLiteral(domainName)) {
    warnings.push({
      code: 'WARN_DOMAIN_IS_IP',
      message: [
        `the session domain is an IP address (${address.domain}): session links look like ${example},`,
        'and no browser can resolve a name under an IP address, so nobody can open them.',
        'Use a DNS name with a wildcard record (tunnel.example.com and *.tunnel.example.com -> this host)',
        'and pass it as --domain / WINGMAN_DOMAIN or --public-url / PUBLIC_URL.',
      ].join('\n'),
    });
  }
  if (address.scheme === 'http' && !isLocalhostName(publicName) && !isIpLiteral(publicName)) {
    warnings.push({
      code: 'WARN_INSECURE_PUBLIC_URL',
      message: [
        `session links are plain http on ${publicName} (${example}).`,
        'Browsers give an http:// page outside localhost no Service Worker, so viewers get no',
        'peer-to-peer connection and no cookie bridge; pages still load through the relay.',
        'Serve https: --tls-cert <file> --tls-key <file> (TLS_CERT_FILE / TLS_KEY_FILE), or a',
        'TLS reverse proxy in front and --public-url https://... (see docs/deploy.md).',
      ].join('\n'),
    });
  }
  if (!isLoopbackHost(config.host) && isLocalhostName(domainName)) {
    warnings.push({
      code: 'WARN_LOCALHOST_LINKS',
      message: [
        `listening on ${config.host}, reachable from other machines, but session links are ${example}:`,
        'on any other machine, localhost is that machine, so nobody else can open them.',
        'Pass the name others reach this host by: --domain / WINGMAN_DOMAIN or --public-url / PUBLIC_URL',
        '(a wildcard DNS name, so that <id>.<domain> resolves too).',
      ].join('\n'),
    });
  }
  return warnings;
}
