import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';

/**
 * A `lookup` for http/ws clients that resolves `localhost` and `*.localhost`
 * to 127.0.0.1 itself (RFC 6761 §6.3: such names are loopback), since the
 * system resolver need not know subdomains of localhost.
 */
export function localhostLookup(
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
): void {
  const h = hostname.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) {
    if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  dnsLookup(hostname, options, callback as never);
}
