/**
 * Upgraded sockets of each session with the viewer address they were admitted from, so that address rules that change
 * apply to those already open. A session's rules change only with a new register, that is a new agent connection:
 * every relayed stream of the old one has ended with it, but a viewer's signaling socket has not (the hub keeps it
 * through the agent's reconnect), and through it a viewer the new rules refuse could still offer to the new agent and
 * get a P2P channel. `enforce` closes those.
 */
import type { Duplex } from 'node:stream';
import type { Session } from '../sessions/registry';
import { addressVerdict } from './address-rules';

export type AddressHolds = ReturnType<typeof createAddressHolds>;

export function createAddressHolds() {
  const bySession = new Map<string, Map<Duplex, string>>();
  return {
    hold(sessionId: string, address: string, socket: Duplex): void {
      if (socket.destroyed) return;
      let held = bySession.get(sessionId);
      if (!held) bySession.set(sessionId, (held = new Map()));
      held.set(socket, address);
      socket.once('close', () => {
        held.delete(socket);
        if (held.size === 0 && bySession.get(sessionId) === held) bySession.delete(sessionId);
      });
    },
    /** Closes the session's held sockets whose address its current rules refuse; returns how many. */
    enforce(session: Session): number {
      let closed = 0;
      for (const [socket, address] of bySession.get(session.id) ?? []) {
        if (addressVerdict(session.addressRules, address).kind === 'allowed') continue;
        socket.destroy();
        closed++;
      }
      return closed;
    },
  };
}
