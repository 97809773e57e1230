/**
 * `URL.parse` (Chromium 126, Firefox 126, Safari 18) and `AbortSignal.any` (Chromium 116, Firefox 124,
 * Safari 17.4) for every browser that gets the shell (Safari from 16.4: docs/browser-client.md §Known
 * limitations), without defining them on a global the app's frame shares. eslint.config.mjs bans the two
 * built-ins in this package.
 */
export function parseUrl(url: string | URL, base?: string | URL): URL | null {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

export function anySignal(signals: AbortSignal[]): AbortSignal {
  const either = new AbortController();
  for (const s of signals) {
    if (s.aborted) either.abort(s.reason);
    else s.addEventListener('abort', () => either.abort(s.reason), { once: true, signal: either.signal });
  }
  return either.signal;
}
