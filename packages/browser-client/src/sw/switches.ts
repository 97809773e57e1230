/**
 * The speed mechanisms the server switched off for an on/off A/B in the network lab (docs/speed-ledger.md):
 * the hello's p2p settings, carried by each shell's announcement (`off`). All are on until a shell says
 * otherwise; the latest list told wins (a server-wide setting). A restarted SW has them again from the
 * shells' answers to its `wingman:sync`.
 */
import type { SpeedSwitch } from '@wingman/protocol';

export function createSwitches() {
  let off = new Set<SpeedSwitch>();
  return {
    /** A shell's announcement: its list replaces the one held; absent, no news. */
    announced(m: { off?: readonly SpeedSwitch[] }): void {
      if (m.off) off = new Set(m.off);
    },
    on: (name: SpeedSwitch): boolean => !off.has(name),
  };
}

/** This Service Worker's switches (sw.ts feeds them; the mechanisms read them). */
export const swSwitches = createSwitches();
