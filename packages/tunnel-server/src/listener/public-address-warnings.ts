/**
 * Configurations that start fine but hand out links that cannot work, or work without P2P; found once at start, the
 * bin prints them. Codes (docs/operations.md §Start warnings): WARN_DOMAIN_IS_IP (no `<id>.<ip>` names),
 * WARN_INSECURE_PUBLIC_URL (plain http off localhost: no Service Worker, so no P2P nor cookie bridge),
 * WARN_LOCALHOST_LINKS (bound beyond loopback, but links say `localhost`).
 */
import { isLoopbackHost, type TunnelServerConfig } from '../config';
import { hostnameOf } from '../http/host-route';
import type { PublicAddress } from './public-address';

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
