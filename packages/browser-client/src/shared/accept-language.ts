/**
 * `Accept-Language` from the browser's languages, in Chromium's format:
 * the first without a weight, then q=0.9, 0.8, … (at least 0.1). For the
 * requests Wingman writes itself where the browser would have written the
 * field (a P2P request whose FetchEvent lacks it, a P2P WebSocket handshake).
 */
export function acceptLanguage(languages: readonly string[]): string | undefined {
  if (languages.length === 0) return undefined;
  return languages.map((l, i) => (i === 0 ? l : `${l};q=${Math.max(0.1, 1 - i / 10).toFixed(1)}`)).join(',');
}
