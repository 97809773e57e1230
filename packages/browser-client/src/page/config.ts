/** The shell's configuration (ShellConfig, @wingman/protocol), written by the tunnel server into the page and validated here again. */
import type { ShellConfig } from '@wingman/protocol';
import { quietly } from '../shared/quietly';

export function readShellConfig(doc: Document): ShellConfig {
  // No config, or none that parses: every field its fallback (an unknown session, P2P and privacy off, the badge on).
  const v: unknown = quietly(() => JSON.parse(doc.getElementById('wingman-config')?.textContent ?? ''));
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const exclude = Array.isArray(o.exclude) ? o.exclude.filter((p): p is string => typeof p === 'string' && p.startsWith('/')).slice(0, 64) : [];
  return {
    sessionId: typeof o.sessionId === 'string' ? o.sessionId.slice(0, 63) : 'unknown',
    p2p: o.p2p === true,
    exclude,
    badge: o.badge !== false,
    private: o.private === true,
  };
}
