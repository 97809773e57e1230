/**
 * Host-based routing. `<id>.<domain>` (any case, any port) is a session host; everything else (the apex domain, an IP
 * address, a missing Host) is served as the apex, so agents and health checks may use any address. Ports are ignored:
 * one server listens on one port, and behind a proxy the public port differs from the listening one anyway.
 */

export type HostRoute = { kind: 'apex' } | { kind: 'session'; label: string };

/** The host part of a `host[:port]` string, lower case, without a trailing dot. */
export function hostnameOf(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1); // IPv6 literal
  const colon = h.lastIndexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export type HostRouter = ReturnType<typeof createHostRouter>;

/** The route of a Host header. `domain` may carry a port (`localhost:8080`); only its host name matters for routing. */
export function createHostRouter(domain: string) {
  const suffix = `.${hostnameOf(domain)}`;
  return (hostHeader: string | undefined): HostRoute => {
    const hostname = hostnameOf(hostHeader ?? '');
    // The label may still be invalid (`www`, `a.b`): the caller checks it with isSessionLabel (a session id or a stable name).
    if (hostname.length > suffix.length && hostname.endsWith(suffix)) return { kind: 'session', label: hostname.slice(0, -suffix.length) };
    return { kind: 'apex' };
  };
}
