/**
 * The shell's configuration, written by the tunnel server into
 * <script type="application/json" id="wingman-config"> (tunnel-server `browser/shell-html.ts`)
 * and validated here again: the page must not trust its own markup blindly.
 */
export interface ShellConfig {
  sessionId: string;
  p2p: boolean;
  exclude: string[];
  badge: boolean;
  /** A private session: the app is loaded only once the channel is verified (docs/PROTOCOL.md §Verified channels). */
  private: boolean;
}

const FALLBACK: ShellConfig = { sessionId: 'unknown', p2p: false, exclude: [], badge: true, private: false };

export function readShellConfig(doc: Document): ShellConfig {
  const el = doc.getElementById('wingman-config');
  if (!el?.textContent) return FALLBACK;
  let v: unknown;
  try {
    v = JSON.parse(el.textContent);
  } catch {
    return FALLBACK;
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const exclude = Array.isArray(o.exclude) ? o.exclude.filter((p): p is string => typeof p === 'string' && p.startsWith('/')).slice(0, 64) : [];
  return {
    sessionId: typeof o.sessionId === 'string' ? o.sessionId.slice(0, 63) : FALLBACK.sessionId,
    p2p: o.p2p === true,
    exclude,
    badge: o.badge !== false,
    private: o.private === true,
  };
}
