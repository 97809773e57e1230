/**
 * Which local ICE candidates are worth sending. A loopback candidate only
 * helps a viewer on this same machine, so the host holds its loopback
 * candidates back until the viewer shows a loopback candidate of its own.
 * @see https://datatracker.ietf.org/doc/html/rfc8445#section-5.1.1.1 (host candidates)
 */

/** The connection-address field of an SDP candidate line ("candidate:… 1 udp 2122260223 192.0.2.1 54321 typ host"). */
export function candidateAddress(candidate: string): string | undefined {
  const parts = candidate.replace(/^a=/, '').split(/\s+/);
  // foundation component transport priority address port "typ" type …
  return parts.length >= 8 ? parts[4] : undefined;
}

export function isLoopbackCandidate(candidate: string): boolean {
  const a = candidateAddress(candidate);
  if (!a) return false;
  return a === '::1' || a.startsWith('127.') || a === 'localhost';
}

/** Counts candidate types in an SDP or candidate list (host / srflx / relay / prflx), for reports. */
export function candidateType(candidate: string): string | undefined {
  const m = / typ (\w+)/.exec(candidate);
  return m?.[1];
}
