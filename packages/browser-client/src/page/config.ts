/** The shell's configuration (ShellConfig, @wingman/protocol), written by the tunnel server into the page and validated here again. */
import type { ShellConfig } from '@wingman/protocol';
import { quietly } from '../shared/quietly';

const FALLBACK: ShellConfig = { sessionId: 'unknown', p2p: false, exclude: [], badge: true, private: false };

export function readShellConfig(doc: Document): ShellConfig {
  const el = doc.getElementById('wingman-config');
  if (!el?.textContent) return FALLBACK;
  const v: unknown = quietly(() => JSON.parse(el.textContent!));
  if (v === undefined) return FALLBACK;
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
