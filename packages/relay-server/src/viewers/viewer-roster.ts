/**
 * The agent's view of its session's viewers (docs/PROTOCOL.md §Viewer
 * identity): the server announces them, the developer's decisions go back and
 * the server enforces them; a refused viewer's P2P channels are closed here.
 */
import { EventEmitter } from 'node:events';
import type { ViewerDecision, ViewerGateMode, ViewerMessage } from '@wingman/protocol';
import type { Agent } from '../agent';
import type { AgentP2P } from '../p2p/agent-p2p';

/** Least recently changed dropped first: the server's MAX_TRACKED_VIEWERS. */
export const MAX_ROSTER_VIEWERS = 1_000;

export type ViewerEntry = Omit<ViewerMessage, 'type'>;

/** `gone`: the server forgot a waiting viewer. */
export type ViewerRosterEvents = { viewer: [ViewerEntry]; gone: [string] };

export interface ViewerRoster extends EventEmitter<ViewerRosterEvents> {
  /** Undefined until registered (or with a server that tracks no viewers). */
  readonly mode: ViewerGateMode | undefined;
  /** Oldest first. */
  list(): ViewerEntry[];
  get(id: string): ViewerEntry | undefined;
  /** Each address's longest waiting first, then each one's second…: one address cannot push others down. */
  waiting(): ViewerEntry[];
  /** The terminal's revoke key. */
  newestAdmitted(): ViewerEntry | undefined;
  /** False when not connected (or the id is unknown). */
  decide(decision: Exclude<ViewerDecision, 'refuse-all'>, id: string): boolean;
  refuseAll(): boolean;
}

export function attachViewerRoster(agent: Agent, p2p: () => AgentP2P | undefined): ViewerRoster {
  const viewers = new Map<string, ViewerEntry>();
  let mode: ViewerGateMode | undefined;
  const emitter = new EventEmitter<ViewerRosterEvents>();

  agent.on('ready', (e) => {
    mode = e.viewers;
    // A new session has new viewers; a resumed one has its viewers announced again.
    if (!e.resumed) viewers.clear();
  });
  agent.on('control', (m) => {
    if (m.type === 'viewer-gone') {
      if (viewers.delete(m.id)) emitter.emit('gone', m.id);
      return;
    }
    if (m.type !== 'viewer') return;
    // The sign-in's end is relative to the message: stale once kept (agent-p2p.ts keeps it as a deadline).
    const { type: _type, signInEndsInMs: _signInEndsInMs, ...entry } = m;
    viewers.delete(m.id);
    viewers.set(m.id, entry);
    if (viewers.size > MAX_ROSTER_VIEWERS) viewers.delete(viewers.keys().next().value as string);
    if (m.state === 'refused') p2p()?.closeVisitor(m.id, 'viewer refused by the developer');
    else p2p()?.allowVisitor(m.id);
    emitter.emit('viewer', entry);
  });

  const byFirstSeen = () => [...viewers.values()].sort((a, b) => a.firstSeenAt - b.firstSeenAt);
  const roster = Object.assign(emitter, {
    list: byFirstSeen,
    get: (id: string) => viewers.get(id),
    waiting: () => interleaveByAddress(byFirstSeen().filter((v) => v.state === 'waiting')),
    newestAdmitted: () => [...viewers.values()].reverse().find((v) => v.state === 'admitted'),
    decide(decision: Exclude<ViewerDecision, 'refuse-all'>, id: string) {
      if (!viewers.has(id)) return false;
      return agent.sendControl({ type: 'viewer-decision', decision, id });
    },
    refuseAll() {
      return agent.sendControl({ type: 'viewer-decision', decision: 'refuse-all' });
    },
  });
  // A getter (Object.assign would copy the value once).
  Object.defineProperty(roster, 'mode', { get: () => mode, enumerable: true });
  return roster as ViewerRoster;
}

function interleaveByAddress(list: ViewerEntry[]): ViewerEntry[] {
  const rank = new Map<string, number>();
  const ranked = list.map((v, i) => {
    const r = rank.get(v.address) ?? 0;
    rank.set(v.address, r + 1);
    return { v, r, i };
  });
  return ranked.sort((a, b) => a.r - b.r || a.i - b.i).map((x) => x.v);
}
